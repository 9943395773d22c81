/**
 * The pool threads, as lanes: one piscina instance of exactly one thread each. A lane runs its tasks one at a
 * time in submission order (piscina's FIFO queue, `concurrentTasksPerWorker: 1`), which is what lets a body's
 * verifier live on one thread between tasks (a sequential SHA-256 cannot move between threads). Stateless
 * tasks go to the least-loaded lane.
 *
 * Failure model: a task whose thread died, whose queue is full or whose pool is closing rejects; callers turn
 * that into a fallback (stateless work) or a failed verdict (bodies), never an unverified body. piscina's
 * `'error'` event (a thread that died between tasks; it is replaced) is absorbed here so it cannot crash the
 * process.
 */
import { createRequire } from "node:module";
import type { Piscina } from "piscina";

/**
 * piscina is loaded when the first lane is made, not at import: a worker with no pool threads (the default
 * on `workers: auto`) then never pays its ~10 MiB of RSS. Its CommonJS entry loads synchronously.
 */
let piscina: typeof import("piscina") | null = null;
function loadPiscina(): typeof import("piscina") {
  piscina ??= createRequire(import.meta.url)("piscina") as typeof import("piscina");
  return piscina;
}

import { type VerifyPoolEvent, verifyPoolChannel } from "./verify-channels.js";
import type { TimedResult } from "./verify-tasks.js";

const WORKER_FILE = new URL("./verify-worker.js", import.meta.url).href;

export type TaskName = "verifyRequest" | "verifyBody" | "closeBody";

export class WorkerLanes {
  readonly size: number;
  readonly maxQueue: number;
  readonly #lanes: Piscina[];
  /** Tasks submitted and not yet settled, per lane (queued + running). */
  readonly #pending: number[];
  /** Queue entries held per lane by bodies in flight (`reserve`). */
  readonly #reserved: number[];
  #closing = false;
  #closed = false;

  /** `workerFile`: the thread's module (tests put a failing one in its place). */
  constructor(threads: number, maxQueue: number, workerFile = WORKER_FILE) {
    this.size = threads;
    this.maxQueue = maxQueue;
    this.#lanes = [];
    this.#pending = [];
    this.#reserved = [];
    for (let i = 0; i < threads; i++) {
      const lane = new (loadPiscina().Piscina)({
        filename: workerFile,
        minThreads: 1,
        maxThreads: 1,
        concurrentTasksPerWorker: 1,
        // Without it piscina puts a task the busy thread could not take at the tail of the queue, behind
        // later ones: a body's pieces would reach its verifier out of order.
        stricterFIFO: true,
        maxQueue,
        // The pool's own wait/run histograms: unused (the wait goes to osp:verify:pool), so not paid for.
        recordTiming: false,
      });
      // An error thrown in a thread between tasks (piscina replaces the thread; an error within a task
      // rejects that task instead). Without a listener it would end the worker process.
      lane.on("error", () => {});
      this.#lanes.push(lane);
      this.#pending.push(0);
      this.#reserved.push(0);
    }
  }

  /** True once `close` began: no lane is picked for new work, tasks of work already placed still run. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Tasks waiting in every lane's queue, not yet taken by a thread. */
  get queueLength(): number {
    let total = 0;
    for (const lane of this.#lanes) total += lane.queueSize;
    return total;
  }

  /**
   * The lane with the fewest unsettled tasks that can take `tasks` more queue entries on top of those
   * reserved by bodies in flight, or -1 when none can (or the pool is closing): new work then stays inline,
   * so piscina's queue limit is never what refuses a task of work already placed.
   */
  pickLane(tasks: number): number {
    if (this.#closing) return -1;
    let best = -1;
    let bestPending = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.#lanes.length; i++) {
      const pending = this.#pending[i]!;
      if (pending < bestPending && this.#reserved[i]! + this.#lanes[i]!.queueSize + tasks <= this.maxQueue) {
        best = i;
        bestPending = pending;
      }
    }
    return best;
  }

  /** Holds `tasks` queue entries of `lane` for work that will submit them over time (a body); negative releases. */
  reserve(lane: number, tasks: number): void {
    this.#reserved[lane]! += tasks;
  }

  /** Runs one task on `lane`; publishes its queue wait when observed. Rejects on any pool failure. */
  async run<R extends TimedResult>(
    lane: number,
    name: TaskName,
    task: object,
    transferList?: ArrayBuffer[],
  ): Promise<R> {
    const pool = this.#lanes[lane];
    if (pool === undefined || this.#closed) throw new Error("verify pool is closed");
    const observed = verifyPoolChannel.hasSubscribers;
    const queueLength = observed ? this.queueLength : 0;
    const submittedAtMs = observed ? performance.timeOrigin + performance.now() : 0;
    this.#pending[lane]!++;
    try {
      const result = (await pool.run(
        task,
        transferList === undefined ? { name } : { name, transferList },
      )) as R;
      if (observed && verifyPoolChannel.hasSubscribers) {
        const event: VerifyPoolEvent = {
          queueLength,
          waitSeconds: Math.max(0, result.startedAtMs - submittedAtMs) / 1000,
        };
        verifyPoolChannel.publish(event);
      }
      return result;
    } finally {
      this.#pending[lane]!--;
    }
  }

  /** Stops picking lanes for new work; `settled` resolves once the caller's work in flight is done. */
  async close(settled: Promise<void>): Promise<void> {
    this.#closing = true;
    await settled;
    this.#closed = true;
    await Promise.allSettled(this.#lanes.map((lane) => lane.close()));
  }
}
