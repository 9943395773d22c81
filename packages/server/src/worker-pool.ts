/**
 * The primary's workers: one slot per expected worker, each holding the process that serves for it. A
 * worker that dies unexpectedly is started again after a backoff, and given up after a crash loop
 * (restart-policy.ts). Reloads go to every worker in place, or replace them one at a time (rolling).
 */
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import type { Logger, LogLevel } from "@osp/log";
import { type MetricsSnapshot, type PrimaryMetrics, retireSnapshot, type WorkerState } from "@osp/metrics";
import type { ConfigPayload, ToPrimary } from "./ipc-messages.js";
import { isMessage } from "./ipc-messages.js";
import { DEFAULT_RESTART_POLICY, type RestartPolicyOptions } from "./restart-policy.js";
import { WorkerHandle } from "./worker-handle.js";
import { WorkerSlot } from "./worker-slot.js";
import type { PoolStatus } from "./worker-status.js";

export interface WorkerPoolOptions {
  readonly log: Logger;
  /** OSP_LOG_LEVEL, handed to every worker. */
  readonly logLevel: LogLevel | null;
  readonly metrics: PrimaryMetrics;
  readonly restartPolicy?: RestartPolicyOptions;
  /** How long a new worker may take to listen before a rolling replacement gives up on it. */
  readonly startTimeoutMs?: number;
  /** Called whenever a worker changes state (readiness may have changed). */
  readonly onChange?: () => void;
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  #config: ConfigPayload;
  /** `listen.port` of the config; when 0, the port the first worker got is handed to the others. */
  #configuredPort: number;
  #resolvedPort: number | null;
  /** Resolves when the port is known (at once unless `listen.port` is 0). */
  readonly #portKnown: Promise<void>;
  #portResolved: () => void;
  readonly #slots: WorkerSlot<WorkerHandle>[];
  readonly #handles: Set<WorkerHandle>;
  /** Counters and histograms of the workers that are gone (so cluster counters never go down). */
  #retired: MetricsSnapshot;
  #retiring: Promise<void>;
  #draining: boolean;
  #collectId: number;

  constructor(options: WorkerPoolOptions, config: ConfigPayload, port: number) {
    this.#options = options;
    this.#log = options.log;
    this.#config = config;
    this.#configuredPort = port;
    this.#resolvedPort = port === 0 ? null : port;
    this.#portResolved = () => {};
    this.#portKnown = new Promise<void>((resolve) => {
      this.#portResolved = resolve;
    });
    if (port !== 0) this.#portResolved();
    this.#slots = [];
    this.#handles = new Set();
    this.#retired = [];
    this.#retiring = Promise.resolve();
    this.#draining = false;
    this.#collectId = 0;
  }

  /** Forks `count` workers (the first alone when the port is 0, so the others can share the one it got). */
  async start(count: number): Promise<void> {
    this.#addSlot();
    if (this.#resolvedPort === null) await this.#portKnown;
    while (this.#slots.length < count && !this.#draining) this.#addSlot();
  }

  /**
   * Sends `next` to every running worker, to a first one alone before the others: if it cannot apply it
   * (a hook module that does not load), nothing changed and this rejects. Returns the workers' errors
   * after the first (each keeps its previous config).
   */
  async reloadInPlace(next: ConfigPayload, timeoutMs: number): Promise<string[]> {
    const targets = [...this.#handles].filter((h) => h.state !== "draining" && h.greeted);
    const [first, ...rest] = targets;
    if (first !== undefined) {
      const error = await first.reload(next, timeoutMs);
      if (error !== null) throw new Error(`worker ${first.slot.index} could not apply it: ${error}`);
    }
    this.#config = next;
    const errors = await Promise.all(rest.map((h) => h.reload(next, timeoutMs)));
    return errors.flatMap((e, i) => (e === null ? [] : [`worker ${rest[i]!.slot.index}: ${e}`]));
  }

  /**
   * Replaces the first `count` workers one at a time: a new one starts with `next` and listens, then the old
   * one drains (up to `drainMs`). Rejects, with every old worker still serving, when the first new one fails to listen.
   */
  async rollingReplace(
    next: ConfigPayload,
    listenPort: number,
    drainMs: number,
    count: number,
  ): Promise<void> {
    const previous = { config: this.#config, configured: this.#configuredPort, resolved: this.#resolvedPort };
    this.#configuredPort = listenPort;
    if (listenPort !== 0 || previous.configured !== 0)
      this.#resolvedPort = listenPort === 0 ? null : listenPort;
    let first = true;
    // Slots past the new worker count are not replaced: `scale` drains them next.
    for (const slot of this.#slots.slice(0, Math.max(count, 1))) {
      if (this.#draining || slot.removed) break;
      const fresh = this.#fork(slot, next);
      const listening = await fresh.listeningWithin(this.#options.startTimeoutMs ?? 30_000);
      if (!listening) {
        fresh.kill();
        if (first) {
          this.#config = previous.config;
          this.#configuredPort = previous.configured;
          this.#resolvedPort = previous.resolved;
          throw new Error(`a worker with the new config did not start listening (worker ${slot.index})`);
        }
        this.#log.error(
          { slot: slot.index },
          "a worker with the new config did not start; its slot restarts",
        );
        continue;
      }
      if (first) this.#config = next;
      first = false;
      const old = slot.current;
      slot.adopt(fresh);
      if (old !== null) old.drain(drainMs);
    }
    this.#changed();
  }

  /** Adds or drains slots (highest first) until there are `count`. */
  scale(count: number, drainMs: number): void {
    while (this.#slots.length < count && !this.#draining) this.#addSlot();
    while (this.#slots.length > count) {
      const slot = this.#slots.pop()!;
      slot.removed = true;
      slot.cancelRestart();
      slot.current?.drain(drainMs);
    }
    this.#changed();
  }

  /** Drains every worker (up to `deadlineMs` each) and resolves when all have exited. */
  async drainAll(deadlineMs: number): Promise<void> {
    this.#draining = true;
    for (const slot of this.#slots) slot.cancelRestart();
    const exits = [...this.#handles].map((h) => h.exited);
    for (const h of this.#handles) h.drain(deadlineMs);
    this.#changed();
    await Promise.all(exits);
    await this.#retiring;
  }

  /** Asks every worker for its metrics (up to `timeoutMs`); a silent worker counts with its last answer. */
  async collect(timeoutMs: number): Promise<{ snapshots: MetricsSnapshot[]; workers: unknown[] }> {
    const id = ++this.#collectId;
    await Promise.all([...this.#handles].map((h) => h.collect(id, timeoutMs)));
    await this.#retiring;
    const live = [...this.#handles];
    return {
      snapshots: [this.#retired, ...live.flatMap((h) => (h.snapshot === null ? [] : [h.snapshot]))],
      workers: live.map((h) => ({ ...h.status(), requests: h.requests, inFlight: h.inFlight })),
    };
  }

  status(): PoolStatus {
    const workers = [...this.#handles].map((h) => h.status());
    return {
      expected: this.#slots.length,
      listening: this.#slots.filter((s) => s.current?.state === "listening").length,
      failed: this.#slots.filter((s) => s.failed).length,
      port: this.#resolvedPort,
      workers,
    };
  }

  #addSlot(): void {
    const slot = new WorkerSlot<WorkerHandle>(
      this.#slots.length,
      this.#options.restartPolicy ?? DEFAULT_RESTART_POLICY,
    );
    this.#slots.push(slot);
    slot.adopt(this.#fork(slot, this.#config));
  }

  #fork(slot: WorkerSlot<WorkerHandle>, config: ConfigPayload): WorkerHandle {
    const process: ClusterWorker = cluster.fork();
    const handle = new WorkerHandle(process, slot, config);
    this.#handles.add(handle);
    process.on("message", (message: unknown) => {
      if (isMessage<ToPrimary>(message)) this.#onMessage(handle, message);
    });
    process.on("exit", (code, signal) => this.#onExit(handle, code, signal));
    // A send to a worker that just died fails with EPIPE: its exit is handled above, and logged there
    // (#restartLater) unless it was asked for (drain, scale-down, kill).
    process.on("error", () => {});
    this.#changed();
    return handle;
  }

  #onMessage(handle: WorkerHandle, message: ToPrimary): void {
    switch (message.type) {
      case "hello":
        handle.greeted = true;
        handle.send({
          type: "start",
          slot: handle.slot.index,
          config: handle.startConfig,
          logLevel: this.#options.logLevel,
          port: this.#configuredPort === 0 ? this.#resolvedPort : null,
        });
        return;
      case "listening":
        if (this.#configuredPort === 0 && this.#resolvedPort === null) {
          this.#resolvedPort = message.port;
          this.#portResolved();
        }
        handle.listened(message.port, message.generation);
        // Started before a reload reached the others: bring it up to date.
        if (message.generation < this.#config.generation && handle.slot.current === handle) {
          void handle.reload(this.#config, 30_000);
        }
        this.#changed();
        return;
      case "start-failed":
        this.#log.error(
          { slot: handle.slot.index, workerPid: handle.pid, err: message.message },
          "worker failed to start",
        );
        return;
      case "final":
        handle.snapshot = message.metrics;
        return;
      default:
        handle.received(message);
        if (message.type === "redis") this.#changed();
    }
  }

  #onExit(handle: WorkerHandle, code: number | null, signal: string | null): void {
    this.#handles.delete(handle);
    handle.exitedWith();
    // Its last metrics ("final") may still be in the IPC pipe when the exit is seen: the channel's end
    // ("disconnect") comes after every message.
    this.#retiring = this.#retiring.then(async () => {
      await handle.disconnectedWithin(1_000);
      if (handle.snapshot !== null) this.#retired = await retireSnapshot(this.#retired, handle.snapshot);
    });
    const slot = handle.slot;
    if (slot.current === handle) {
      slot.current = null;
      if (!this.#draining && !handle.expectedExit && !slot.removed)
        this.#restartLater(slot, handle, code, signal);
    }
    this.#changed();
  }

  #restartLater(
    slot: WorkerSlot<WorkerHandle>,
    handle: WorkerHandle,
    code: number | null,
    signal: string | null,
  ): void {
    const delayMs = slot.policy.crashed(Date.now());
    const facts = { slot: slot.index, workerPid: handle.pid, code, signal };
    if (delayMs === null) {
      slot.failed = true;
      this.#log.error(
        { ...facts, crashes: slot.policy.recentCrashes },
        "worker is crash-looping: not restarting it (readyz reports degraded; fix the cause, then SIGHUP or restart)",
      );
      return;
    }
    this.#log.error({ ...facts, restartInMs: delayMs }, "worker exited unexpectedly; restarting it");
    slot.restartAfter(delayMs, () => {
      if (this.#draining || slot.removed) return;
      this.#options.metrics.workerRestarted();
      slot.adopt(this.#fork(slot, this.#config));
    });
  }

  #changed(): void {
    const counts: Record<WorkerState, number> = { starting: 0, listening: 0, draining: 0, failed: 0 };
    for (const h of this.#handles) counts[h.state]++;
    counts.failed = this.#slots.filter((s) => s.failed).length;
    this.#options.metrics.setWorkers(counts);
    this.#options.onChange?.();
  }
}
