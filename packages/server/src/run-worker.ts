/**
 * One cluster worker: waits for the config from the primary, starts the gateway on the shared port
 * (uWS binds with SO_REUSEPORT, so every worker listens on the same port and the kernel spreads new
 * connections across them), then answers the primary: reload in place, drain, collect metrics.
 */
import type { Cache } from "@osp/cache";
import { type Config, compileConfig } from "@osp/config";
import { errorMessage } from "@osp/errors";
import { createWorkerCache, startWorker, type Worker } from "@osp/gateway";
import type { LogLevel } from "@osp/log";
import { createWorkerMetrics, type WorkerMetrics } from "@osp/metrics";
import { type ConfigPayload, isMessage, type ToPrimary, type ToWorker } from "./ipc-messages.js";
import { subscribeLogChannels } from "./log-channels.js";
import { createProcessLogger, type ProcessLogger } from "./process-logger.js";

interface Running {
  readonly logger: ProcessLogger;
  readonly metrics: WorkerMetrics;
  readonly cache: Cache;
  readonly unsubscribeLogs: () => void;
  readonly gateway: Worker;
  /** OSP_LOG_LEVEL, which wins over `logging.level` across reloads. */
  readonly logLevelOverride: LogLevel | null;
  config: Config;
}

/** How long a draining worker waits without a new request before it closes the remaining connections. */
const DRAIN_QUIET_MS = 500;

function send(message: ToPrimary): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Compiles the text the primary validated (the environment is the primary's, inherited at fork). */
function compile(payload: ConfigPayload, port: number | null): Config {
  const config = compileConfig(payload.text, payload.source);
  return port === null ? config : { ...config, listen: { ...config.listen, port } };
}

export function runWorker(): void {
  let starting: Promise<Running | null> | null = null;
  let draining: Promise<void> | null = null;
  let port: number | null = null;

  async function start(message: Extract<ToWorker, { type: "start" }>): Promise<Running | null> {
    let config: Config;
    let logger: ProcessLogger | null = null;
    try {
      config = compile(message.config, message.port);
      port = message.port;
      logger = createProcessLogger(message.logLevel ?? config.logging.level, { slot: message.slot });
      const log = logger.log;
      let gateway: Worker | null = null;
      const metrics = createWorkerMetrics({
        bucketLabels: config.metrics.bucketLabels,
        redis: config.redis !== undefined,
        inFlight: () => gateway?.inFlight ?? 0,
      });
      // One cache per worker process, shared by every gateway core it builds (reloads keep the cache).
      const cache = createWorkerCache(config, log);
      const reportRedis = () => {
        const s = cache.status();
        void send({ type: "redis", state: s.redis, lastError: s.lastError });
      };
      cache.onStatusChange(reportRedis);
      reportRedis();
      const unsubscribeLogs = subscribeLogChannels(log);
      try {
        gateway = await startWorker(config, { log, cache });
      } catch (err) {
        unsubscribeLogs();
        metrics.close();
        await cache.close();
        throw err;
      }
      await send({ type: "listening", port: gateway.port, generation: message.config.generation });
      return {
        logger,
        metrics,
        cache,
        unsubscribeLogs,
        gateway,
        logLevelOverride: message.logLevel,
        config,
      };
    } catch (err) {
      const text = errorMessage(err);
      logger?.log.error({ err: text }, "worker failed to start");
      await send({ type: "start-failed", message: text });
      await logger?.flush();
      process.exit(1);
    }
  }

  async function reload(running: Running, payload: ConfigPayload): Promise<void> {
    try {
      const config = compile(payload, port);
      await running.gateway.reload(config, { drainMs: config.shutdown.drainTimeout });
      running.config = config;
      running.metrics.setBucketLabels(config.metrics.bucketLabels);
      running.logger.log.level = running.logLevelOverride ?? config.logging.level;
      running.logger.log.info({ generation: payload.generation }, "config applied");
      await send({ type: "reloaded", generation: payload.generation, error: null });
    } catch (err) {
      const text = errorMessage(err);
      running.logger.log.error({ err: text, generation: payload.generation }, "config reload failed");
      await send({ type: "reloaded", generation: payload.generation, error: text });
    }
  }

  /** Stops accepting, lets in-flight requests finish (up to `deadlineMs`), hands in the counters, exits 0. */
  function drain(deadlineMs: number): Promise<void> {
    draining ??= (async () => {
      const running = await (starting ?? Promise.resolve(null));
      if (running === null) process.exit(0);
      const { gateway, logger, metrics } = running;
      logger.log.info({ inFlight: gateway.inFlight, deadlineMs }, "draining");
      // A quiet half second lets clients on kept-alive connections get their next answer (which asks them
      // to close) instead of a connection closed under their request.
      await gateway.close(deadlineMs, { quietMs: DRAIN_QUIET_MS });
      await send({ type: "final", metrics: await metrics.snapshot() });
      running.unsubscribeLogs();
      metrics.close();
      await running.cache.close();
      logger.log.info("stopped");
      await logger.flush();
      process.exit(0);
    })();
    return draining;
  }

  process.on("message", (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    switch (message.type) {
      case "start":
        starting ??= start(message);
        return;
      case "reload":
        void starting?.then((running) => running && reload(running, message.config));
        return;
      case "drain":
        void drain(message.deadlineMs);
        return;
      case "collect":
        void starting?.then(async (running) => {
          if (running === null) return;
          await send({
            type: "metrics",
            id: message.id,
            metrics: await running.metrics.snapshot(),
            requests: running.metrics.requestCount(),
            inFlight: running.gateway.inFlight,
          });
        });
        return;
    }
  });
  // The primary coordinates shutdown: a SIGINT from a terminal reaches the whole process group, and the
  // primary's drain message follows. A worker signalled alone drains too (and the primary replaces it).
  const drainOnSignal = () => {
    if (starting === null) process.exit(0);
    void starting.then((running) => drain(running?.config.shutdown.drainTimeout ?? 0));
  };
  process.on("SIGTERM", drainOnSignal);
  process.on("SIGINT", drainOnSignal);
  // The primary is gone (killed): finish what is in flight and go, rather than serve unsupervised.
  process.on("disconnect", drainOnSignal);
  void send({ type: "hello" });
}
