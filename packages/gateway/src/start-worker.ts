/**
 * The entry point of one worker: the HTTP front on the S3 listener, every request handed to a new
 * `Exchange`. Process management (forking, signals, reload) lives elsewhere and only calls this.
 */
import type { Config } from "@osp/config";
import { startHttpServer } from "@osp/http";
import { Exchange } from "./exchange.js";
import { GatewayCore, type GatewayDeps } from "./gateway-core.js";

export interface Worker {
  readonly port: number;
  readonly core: GatewayCore;
  /** Stops accepting connections; in-flight requests finish. */
  stopAccepting(): void;
  /** Stops accepting, waits for in-flight requests up to `deadlineMs`, then closes everything. */
  close(deadlineMs?: number): Promise<void>;
}

export async function startWorker(config: Config, deps: GatewayDeps): Promise<Worker> {
  const core = new GatewayCore(config, deps);
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
      core.inFlight++;
      void new Exchange(core, req, body, res).run();
    },
  );
  deps.log.info({ port: server.port, host: config.listen.host }, "listening");
  let stopped = false;
  return {
    port: server.port,
    core,
    stopAccepting() {
      if (!stopped) server.close();
      stopped = true;
    },
    async close(deadlineMs = 10_000) {
      if (!stopped) server.close();
      stopped = true;
      const until = Date.now() + deadlineMs;
      while (core.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      server.closeAll();
      await core.close();
    },
  };
}
