/**
 * The primary's view of one worker process: its state, the config generation it runs, its Redis state,
 * its last metrics, and the requests in flight to it over IPC (reload, collect) with their timeouts.
 */
import type { Worker as ClusterWorker } from "node:cluster";
import type { MetricsSnapshot } from "@osp/metrics";
import type { ConfigPayload, RedisState, ToPrimary, ToWorker } from "./ipc-messages.js";
import type { WorkerSlot } from "./worker-slot.js";
import type { WorkerStatus } from "./worker-status.js";

/** How long a drained worker may outlive its deadline before it is killed. */
const KILL_GRACE_MS = 5_000;

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class WorkerHandle {
  readonly process: ClusterWorker;
  readonly slot: WorkerSlot<WorkerHandle>;
  /** The config it is started with (a rolling replacement starts workers with the new one). */
  readonly startConfig: ConfigPayload;
  state: "starting" | "listening" | "draining";
  generation: number;
  port: number | null;
  /** It said hello: it reads our messages from now on. */
  greeted: boolean;
  /** We asked it to exit (drain, scale down, failed replacement): no restart. */
  expectedExit: boolean;
  redis: { state: RedisState; lastError: string | null } | null;
  snapshot: MetricsSnapshot | null;
  requests: number;
  inFlight: number;
  readonly exited: Promise<void>;
  readonly #exitedDeferred: Deferred<void>;
  readonly #listening: Deferred<boolean>;
  readonly #reloads: Map<number, (error: string | null) => void>;
  readonly #collects: Map<number, () => void>;

  constructor(process: ClusterWorker, slot: WorkerSlot<WorkerHandle>, startConfig: ConfigPayload) {
    this.process = process;
    this.slot = slot;
    this.startConfig = startConfig;
    this.state = "starting";
    this.generation = startConfig.generation;
    this.port = null;
    this.greeted = false;
    this.expectedExit = false;
    this.redis = null;
    this.snapshot = null;
    this.requests = 0;
    this.inFlight = 0;
    this.#exitedDeferred = deferred<void>();
    this.exited = this.#exitedDeferred.promise;
    this.#listening = deferred<boolean>();
    this.#reloads = new Map();
    this.#collects = new Map();
  }

  /** Resolves when its IPC channel closed (every message read), or after `timeoutMs`. */
  disconnectedWithin(timeoutMs: number): Promise<void> {
    if (!this.process.isConnected()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.process.once("disconnect", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.process.process.pid ?? 0;
  }

  send(message: ToWorker): void {
    if (!this.process.isConnected()) return;
    try {
      this.process.send(message);
    } catch {
      // The channel closed under us: the exit handler takes it from here.
    }
  }

  /** Resolves true once it listens, false if it exited first or took longer than `timeoutMs`. */
  listeningWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return Promise.race([this.#listening.promise, timeout]).finally(() => clearTimeout(timer));
  }

  listened(port: number, generation: number): void {
    if (this.state === "starting") this.state = "listening";
    this.port = port;
    this.generation = generation;
    this.#listening.resolve(true);
  }

  /** Sends a config to apply in place; resolves with the worker's error, or `null` once applied. */
  reload(config: ConfigPayload, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish("no answer within the timeout"), timeoutMs);
      const finish = (error: string | null) => {
        clearTimeout(timer);
        this.#reloads.delete(config.generation);
        if (error === null) this.generation = Math.max(this.generation, config.generation);
        resolve(error);
      };
      this.#reloads.set(config.generation, finish);
      this.send({ type: "reload", config });
    });
  }

  /** Asks for its metrics; resolves when they came (`snapshot` updated), it exited, or `timeoutMs` passed. */
  collect(id: number, timeoutMs: number): Promise<void> {
    if (!this.greeted || !this.process.isConnected()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#collects.delete(id);
        resolve();
      };
      this.#collects.set(id, finish);
      this.send({ type: "collect", id });
    });
  }

  /** Handles the answers to `reload` and `collect`, and Redis state reports. */
  received(message: ToPrimary): void {
    if (message.type === "reloaded") this.#reloads.get(message.generation)?.(message.error);
    else if (message.type === "redis") this.redis = { state: message.state, lastError: message.lastError };
    else if (message.type === "metrics") {
      this.snapshot = message.metrics;
      this.requests = message.requests;
      this.inFlight = message.inFlight;
      this.#collects.get(message.id)?.();
    }
  }

  /** Asks it to stop accepting and exit once its requests are done; kills it if it outlives the deadline. */
  drain(deadlineMs: number): void {
    if (this.state === "draining") return;
    this.state = "draining";
    this.expectedExit = true;
    this.send({ type: "drain", deadlineMs });
    const timer = setTimeout(() => this.process.process.kill("SIGKILL"), deadlineMs + KILL_GRACE_MS);
    void this.exited.then(() => clearTimeout(timer));
  }

  kill(): void {
    this.expectedExit = true;
    this.process.process.kill("SIGKILL");
  }

  /** The process is gone: settle everything that waits on it. */
  exitedWith(): void {
    this.#listening.resolve(false);
    for (const finish of [...this.#reloads.values()]) finish("the worker exited");
    for (const finish of [...this.#collects.values()]) finish();
    this.#exitedDeferred.resolve();
  }

  status(): WorkerStatus {
    return {
      slot: this.slot.index,
      pid: this.pid,
      state: this.state,
      generation: this.generation,
      redis: this.redis,
    };
  }
}
