/**
 * What every request of one worker shares for one config, resolved once so the hot path only branches:
 * the frozen options (gateway-options.ts), the services (gateway-services.ts), the in-flight count and the
 * request ids. Hook modules load asynchronously: `ready` settles when they did (startWorker waits for it
 * before listening, and a request that arrives earlier waits too); a hook that cannot load rejects it.
 */
import type { Config } from "@osp/config";
import { logRequest, type RequestRecord } from "../pipeline/request-record.js";
import { type GatewayOptions, resolveGatewayOptions } from "./gateway-options.js";
import { type GatewayDeps, GatewayServices } from "./gateway-services.js";

export class GatewayCore {
  readonly config: Config;
  readonly options: GatewayOptions;
  readonly services: GatewayServices;
  /** Settles when the hook modules are loaded; rejects when one cannot be. */
  readonly ready: Promise<void>;
  /** `ready` until it settles, then `null`: the hot path checks only that. */
  pending: Promise<void> | null;
  /** Requests started on this core and not finished (start-worker.ts counts them in). */
  inFlight: number;
  /** Request ids: a per-process random prefix and a counter, upper-case hex like S3's. */
  readonly #idPrefix: string;
  #idCounter: number;

  constructor(config: Config, deps: GatewayDeps) {
    this.config = config;
    this.options = resolveGatewayOptions(config);
    this.services = new GatewayServices(config, this.options, deps);
    this.ready = this.services.load(config, this.options, deps);
    this.pending = this.ready.then(() => {
      this.pending = null;
    });
    // A failure is not lost here: it rejects `ready` too, which readyCore (start-worker.ts) awaits and
    // hands to whoever started or reloaded the worker.
    this.pending.catch(() => {});
    this.inFlight = 0;
    this.#idPrefix = Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .toUpperCase()
      .padStart(8, "0");
    this.#idCounter = 0;
  }

  nextRequestId(): string {
    this.#idCounter = (this.#idCounter + 1) >>> 0;
    return this.#idPrefix + this.#idCounter.toString(16).toUpperCase().padStart(8, "0");
  }

  /** Called exactly once per request, when it is finished: the count, the metrics event, the access line. */
  finish(record: RequestRecord): void {
    this.inFlight--;
    logRequest(record, this.services.log, this.options.accessLog);
  }

  close(): Promise<void> {
    return this.services.close();
  }
}
