/**
 * `osp serve`: the primary process. It validates the config once, forks the workers (run-worker.ts) and
 * keeps them running, serves the admin listener, and handles signals: SIGTERM/SIGINT drain and exit 0,
 * SIGHUP reloads the config (a config with problems is refused, each problem logged, and the old one
 * keeps serving).
 */

import cluster from "node:cluster";
import { fileURLToPath } from "node:url";
import { type Config, ConfigError, readConfigFile, resolveWorkerCount } from "@osp/config";
import { errorMessage } from "@osp/errors";
import type { Logger, LogLevel } from "@osp/log";
import { createPrimaryMetrics, renderClusterMetrics } from "@osp/metrics";
import { type AdminServer, startAdminServer } from "./admin-server.js";
import type { ConfigPayload } from "./ipc-messages.js";
import { createProcessLogger } from "./process-logger.js";
import { describeReadiness } from "./readiness.js";
import { planReload, tlsFingerprint } from "./reload-plan.js";
import type { RestartPolicyOptions } from "./restart-policy.js";
import { workerExecArgv } from "./worker-node-flags.js";
import { WorkerPool } from "./worker-pool.js";

export interface PrimaryOptions {
  /** OSP_LOG_LEVEL (read by the CLI): wins over `logging.level`; `null` = the config's. */
  readonly logLevel: LogLevel | null;
  /** osp's version, for `osp_build_info`. */
  readonly version: string;
  readonly restartPolicy?: RestartPolicyOptions;
}

interface Loaded {
  readonly config: Config;
  readonly payload: ConfigPayload;
  readonly tls: string;
  readonly loadedAt: string;
}

/** How long /metrics waits for the workers' answers before using their previous ones. */
const COLLECT_TIMEOUT_MS = 2_000;
const RELOAD_TIMEOUT_MS = 30_000;

/**
 * Reads and compiles the file once; the text itself is what the workers get, so they apply exactly what
 * was checked here. Throws `ConfigError` with every problem.
 */
function loadConfig(file: string, generation: number): Loaded {
  const { text, config } = readConfigFile(file);
  return {
    config,
    payload: { text, source: file, generation },
    tls: tlsFingerprint(config),
    loadedAt: new Date().toISOString(),
  };
}

/** Runs until SIGTERM/SIGINT and the drain that follows; resolves with the exit code. */
export async function runPrimary(configFile: string, options: PrimaryOptions): Promise<number> {
  let current: Loaded;
  try {
    current = loadConfig(configFile, 1);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  let generation = 1;
  const logger = createProcessLogger(options.logLevel ?? current.config.logging.level, { role: "primary" });
  const log = logger.log;
  const metrics = createPrimaryMetrics({ version: options.version, node: process.version });
  let draining = false;
  let readyLogged = false;

  cluster.setupPrimary({
    exec: fileURLToPath(new URL("./worker-main.js", import.meta.url)),
    execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
  });
  const pool = new WorkerPool(
    {
      log,
      logLevel: options.logLevel,
      metrics,
      ...(options.restartPolicy === undefined ? {} : { restartPolicy: options.restartPolicy }),
      onChange() {
        const { ready } = readiness();
        if (ready && !readyLogged)
          log.info({ port: pool.status().port, workers: pool.status().expected }, "ready");
        readyLogged = ready;
      },
    },
    current.payload,
    current.config.listen.port,
  );

  const readiness = () =>
    describeReadiness(pool.status(), draining, {
      source: current.payload.source,
      generation: current.payload.generation,
      loadedAt: current.loadedAt,
    });

  const handlers = {
    async metrics() {
      const { snapshots } = await pool.collect(COLLECT_TIMEOUT_MS);
      return renderClusterMetrics(snapshots, metrics.registry);
    },
    readiness,
    async workers() {
      return { workers: (await pool.collect(COLLECT_TIMEOUT_MS)).workers };
    },
  };
  const adminOptions = (c: Config) => ({
    host: c.admin.host,
    port: c.admin.port,
    token: c.admin.token ?? null,
  });
  let admin: AdminServer;
  try {
    admin = await startAdminServer(adminOptions(current.config), handlers, log);
  } catch (err) {
    log.fatal(
      { err: errorMessage(err), ...adminOptions(current.config), token: undefined },
      "admin listener failed",
    );
    await logger.flush();
    return 1;
  }
  log.info({ admin: `${current.config.admin.host}:${admin.port}`, config: configFile }, "admin listening");

  let reloading = false;
  let reloadAgain = false;
  async function reload(): Promise<void> {
    if (draining) return;
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    try {
      do {
        reloadAgain = false;
        await reloadOnce(++generation);
      } while (reloadAgain && !draining);
    } finally {
      reloading = false;
    }
  }

  async function reloadOnce(nextGeneration: number): Promise<void> {
    log.info({ config: configFile }, "SIGHUP: reloading the config");
    let next: Loaded;
    try {
      next = loadConfig(configFile, nextGeneration);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      logRejected(log, configFile, err);
      metrics.configReloaded("error");
      return;
    }
    const plan = planReload(current.config, next.config, current.tls, next.tls);
    const drainMs = current.config.shutdown.drainTimeout;
    const before = adminOptions(current.config);
    const after = adminOptions(next.config);
    let newAdmin: AdminServer | null = null;
    try {
      if (before.host !== after.host || before.port !== after.port) {
        newAdmin = await startAdminServer(after, handlers, log);
      }
      if (plan.kind === "in-place") {
        const errors = await pool.reloadInPlace(next.payload, RELOAD_TIMEOUT_MS);
        for (const error of errors) log.error({ err: error }, "a worker kept its previous config");
      } else {
        log.info(
          { reasons: plan.reasons },
          "replacing the workers one at a time for keys they cannot change",
        );
        await pool.rollingReplace(
          next.payload,
          next.config.listen.port,
          drainMs,
          resolveWorkerCount(next.config),
        );
      }
    } catch (err) {
      await newAdmin?.close();
      log.error({ err: errorMessage(err) }, "config reload failed; still serving the previous config");
      metrics.configReloaded("error");
      return;
    }
    if (newAdmin !== null) {
      const old = admin;
      admin = newAdmin;
      await old.close();
    }
    admin.setToken(after.token);
    pool.scale(resolveWorkerCount(next.config), drainMs);
    current = next;
    if (options.logLevel === null) log.level = next.config.logging.level;
    metrics.configReloaded("ok");
    log.info(
      { generation: nextGeneration, kind: plan.kind, workers: resolveWorkerCount(next.config) },
      "config reloaded",
    );
  }

  return new Promise<number>((resolve) => {
    const onHangup = () =>
      void reload().catch((err: unknown) => log.error({ err: errorMessage(err) }, "reload failed"));
    const onStop = (signal: NodeJS.Signals) => {
      if (draining) {
        log.warn({ signal }, "already draining");
        return;
      }
      draining = true;
      const deadlineMs = current.config.shutdown.drainTimeout;
      log.info({ signal, deadlineMs }, "draining: not ready, finishing in-flight requests");
      void pool
        .drainAll(deadlineMs)
        .then(() => admin.close())
        .then(async () => {
          process.off("SIGHUP", onHangup);
          process.off("SIGTERM", onStop);
          process.off("SIGINT", onStop);
          log.info("stopped");
          await logger.flush();
          resolve(0);
        });
    };
    process.on("SIGHUP", onHangup);
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    void pool.start(resolveWorkerCount(current.config));
  });
}

/** One error line per problem (path and message: never a value, so never a secret), then a summary. */
function logRejected(log: Logger, file: string, err: ConfigError): void {
  for (const p of err.problems)
    log.error({ config: file, path: p.path || "(root)", problem: p.message }, "config problem");
  log.error(
    { config: file, problems: err.problems.length },
    "new config rejected; still serving the previous config",
  );
}
