/**
 * The entry point of one worker: the HTTP front on the S3 listener, every request handed to a new
 * `Exchange`. Process management (forking, signals, reload) lives elsewhere and only calls this.
 */

import type { Config } from "@osp/config";
import { errorMessage } from "@osp/errors";
import { startHttpServer } from "@osp/http";
import { Exchange } from "../pipeline/exchange.js";
import { GatewayCore } from "./gateway-core.js";
import type { GatewayDeps } from "./gateway-services.js";

export interface Worker {
  readonly port: number;
  /** The core new requests use; a reload replaces it. */
  readonly core: GatewayCore;
  /** Requests in flight on every core: the current one and those still finishing after a reload. */
  readonly inFlight: number;
  /** Stops accepting connections; in-flight requests finish. */
  stopAccepting(): void;
  /**
   * Applies `config` in place, with no failed request: a new `GatewayCore` is built (hook modules loaded),
   * then new requests use it while in-flight ones finish on the old one, which is closed (its upstream
   * pools) once idle or after `drainMs`. Rejects, leaving the old config serving, when the new core cannot
   * be built. Listener settings (`listen.*`, `limits.maxHeaderBytes`) are not applied: those need a new
   * worker process (packages/server decides).
   */
  reload(config: Config, options?: { deps?: GatewayDeps; drainMs?: number }): Promise<void>;
  /**
   * Stops accepting, waits up to `deadlineMs` for in-flight requests and then for `quietMs` without a new
   * request (clients on kept-alive connections get their next answer rather than a closed socket), then
   * closes every connection and the cores.
   */
  close(deadlineMs?: number, options?: { quietMs?: number }): Promise<void>;
}

export async function startWorker(config: Config, deps: GatewayDeps): Promise<Worker> {
  let core = await readyCore(config, deps);
  /** Requests started so far: a drain waits until it stops moving. */
  let started = 0;
  /** Cores replaced by a reload, until their last request is done. */
  const retiring = new Set<GatewayCore>();
  const inFlight = () => {
    let n = core.inFlight;
    for (const c of retiring) n += c.inFlight;
    return n;
  };
  const server = await startHttpServer(
    {
      host: config.listen.host,
      port: config.listen.port,
      maxHeaderBytes: config.limits.maxHeaderBytes,
      ...(config.listen.tls === undefined
        ? {}
        : {
            tls: {
              certFile: config.listen.tls.cert,
              keyFile: config.listen.tls.key,
              ...(config.listen.tls.passphrase === undefined
                ? {}
                : { passphrase: config.listen.tls.passphrase }),
            },
          }),
    },
    (req, body, res) => {
      started++;
      // The core is read once per request: a reload never moves a request between two configs.
      const c = core;
      c.inFlight++;
      // run() answers every failure itself and never rejects.
      void new Exchange(c, req, body, res).run();
    },
  ).catch(async (err: unknown) => {
    await core.close();
    throw err;
  });
  deps.log.info({ port: server.port, host: config.listen.host }, "listening");
  let stopped = false;
  let currentDeps = deps;

  async function retire(old: GatewayCore, drainMs: number): Promise<void> {
    retiring.add(old);
    await waitIdle(() => old.inFlight, drainMs);
    retiring.delete(old);
    await old.close();
  }

  return {
    port: server.port,
    get core() {
      return core;
    },
    get inFlight() {
      return inFlight();
    },
    stopAccepting() {
      if (!stopped) server.close();
      stopped = true;
    },
    async reload(next, options = {}) {
      const nextDeps = options.deps ?? currentDeps;
      const fresh = await readyCore(next, nextDeps);
      const old = core;
      core = fresh;
      currentDeps = nextDeps;
      void retire(old, options.drainMs ?? 30_000).catch((err: unknown) =>
        nextDeps.log.error({ err: errorMessage(err) }, "closing the replaced gateway core failed"),
      );
    },
    async close(deadlineMs = 10_000, options = {}) {
      if (!stopped) server.close();
      stopped = true;
      await waitIdle(inFlight, deadlineMs, options.quietMs ?? 0, () => started);
      server.closeAll();
      await Promise.all([core.close(), ...[...retiring].map((c) => c.close())]);
      retiring.clear();
    },
  };
}

/** A core whose hook modules are loaded; closed again if they fail to load. */
async function readyCore(config: Config, deps: GatewayDeps): Promise<GatewayCore> {
  const core = new GatewayCore(config, deps);
  try {
    await core.ready;
  } catch (err) {
    await core.close();
    throw err;
  }
  return core;
}

/** Until nothing is in flight and, when `quietMs` > 0, `started()` did not move for that long; or the deadline. */
async function waitIdle(
  inFlight: () => number,
  deadlineMs: number,
  quietMs = 0,
  started: () => number = () => 0,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  let seen = started();
  let quietSince = Date.now();
  for (;;) {
    const now = Date.now();
    if (started() !== seen) {
      seen = started();
      quietSince = now;
    }
    if ((inFlight() === 0 && now - quietSince >= quietMs) || now >= until) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
