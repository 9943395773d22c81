/**
 * The event-loop side of a body verified on a pool thread: gathers received pieces into batches, hands a copy of
 * each batch to the body's lane, and forwards (its own pieces) what the thread released, in order.
 *
 * Copies, not transfers: a transferred piece came back as a new ArrayBuffer that often outlived a scavenge
 * (waiting in the upstream socket's queue), so the process kept up to ~50 MiB of sent bodies until a major GC
 * (a 1 GiB signed upload peaked at 132–136 MiB). The thread's copy dies young there (its minor GC nudge,
 * verify-worker.ts); the event loop's piece goes upstream and dies young here. The copy also costs less than
 * the transfer: the same upload went from 260 to ~390 MB/s (bench/proxy memory-1g, `--verify-mode pool`).
 *
 * Hold-back: the thread runs sigv4's own verifier, which keeps the held-back tail (HELD_BACK_BYTES) until its
 * final verdict passed; that tail comes back only in the result of the `end` task. So whatever fails here (a
 * verdict, a dead thread, a full queue, a closed pool, an exception in `emit`), the upstream request never
 * receives its last byte: it cannot complete with an unverified body.
 */
import type { BodyVerifier } from "@osp/sigv4";
import { S3Error, toS3Error } from "./s3-error.js";
import type { BodyResult, BodyTask, BodyVerifierSpec } from "./verify-tasks.js";
import type { WorkerLanes } from "./worker-lanes.js";

export type Emit = Parameters<BodyVerifier["write"]>[1];

/**
 * A `BodyVerifier` whose verdicts arrive later. `write` keeps the chunk until its pieces have gone to `emit`:
 * the thread verifies a copy, and the pieces forwarded are views of the caller's own chunk, so the caller must
 * not modify or reuse a chunk after passing it to `write`.
 */
export interface PooledBodyVerifier {
  readonly pooled: true;
  /**
   * Feeds received bytes; released bytes reach `emit` in order, now or later. Throws the first failure already
   * known. Returns false when the caller should pause its source until `onDrain`.
   */
  write(chunk: Buffer, emit: Emit): boolean;
  /** The body ended: resolves once every verdict passed and the held-back tail went to `emit`; rejects S3Error. */
  end(emit: Emit): Promise<void>;
  /** Calls `listener` once, as soon as `write` may be called again (at once if it may now). */
  onDrain(listener: () => void): void;
  /** Calls `listener` once at the first failure (e.g. a bad chunk signature), to tear the upstream down early. */
  onFailure(listener: (error: S3Error) => void): void;
  /** Abandons the body (client gone, upstream failed): nothing more is emitted, the thread forgets it. */
  destroy(): void;
  /** Decoded bytes the thread has seen so far (held-back ones included). */
  readonly decodedBytes: number;
  /** Received bytes not back from the thread yet (gathered for a batch, or in flight): memory held here. */
  readonly bufferedBytes: number;
  readonly complete: boolean;
  /** Chunked bodies, once `end` resolved: the trailers received. */
  readonly trailers: ReadonlyArray<readonly [string, string]>;
  readonly failure: S3Error | null;
}

export interface PooledBodyOptions {
  readonly batchBytes: number;
  /** Bytes in flight (sent, not back) past which `write` asks the caller to pause. */
  readonly windowBytes: number;
  /**
   * Tasks of this body queued or running at most; more bytes wait here, so a caller that ignores `write`'s
   * false costs memory, never a rejected task (the lane reserved this many queue entries, + 1 to close).
   */
  readonly maxTasks: number;
  /** A partial batch is sent this long after its first bytes, so a slow client's bytes still flow. */
  readonly flushDelayMs: number;
  /** Called once when the body is settled (ended, failed or destroyed). */
  readonly onSettled: () => void;
}

const CANCELLED = "The request body verification was cancelled.";

export class PooledBody implements PooledBodyVerifier {
  readonly pooled = true;
  decodedBytes = 0;
  complete = false;
  trailers: ReadonlyArray<readonly [string, string]> = [];
  failure: S3Error | null = null;

  readonly #lanes: WorkerLanes;
  readonly #lane: number;
  readonly #session: number;
  readonly #options: PooledBodyOptions;
  #spec: BodyVerifierSpec | null;
  #emit: Emit | null = null;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #inFlightBytes = 0;
  #inFlightTasks = 0;
  #flushTimer: NodeJS.Timeout | null = null;
  #drainListeners: Array<() => void> = [];
  #failureListeners: Array<(error: S3Error) => void> = [];
  #ended = false;
  #started = false;
  /** The `end` task was sent. */
  #lastSent = false;
  #settled = false;
  #endResolve: (() => void) | null = null;
  #endReject: ((error: S3Error) => void) | null = null;

  constructor(
    lanes: WorkerLanes,
    lane: number,
    session: number,
    spec: BodyVerifierSpec,
    options: PooledBodyOptions,
  ) {
    this.#lanes = lanes;
    this.#lane = lane;
    this.#session = session;
    this.#spec = spec;
    this.#options = options;
  }

  /** Whether `write` or `end` was ever called. */
  get started(): boolean {
    return this.#started;
  }

  write(chunk: Buffer, emit: Emit): boolean {
    this.#started = true;
    if (this.failure !== null) throw this.failure;
    if (this.#ended) throw new S3Error("InternalError", "Body bytes after its end.", { source: "internal" });
    this.#emit = emit;
    if (chunk.length > 0) {
      this.#batch.push(chunk);
      this.#batchBytes += chunk.length;
      if (this.#batchBytes < this.#options.batchBytes) this.#armFlushTimer();
      else if (this.#inFlightTasks < this.#options.maxTasks) this.#flush(false);
    }
    return this.#hasRoom();
  }

  end(emit: Emit): Promise<void> {
    this.#started = true;
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.#ended)
      return Promise.reject(new S3Error("InternalError", "Body ended twice.", { source: "internal" }));
    this.#ended = true;
    this.#emit = emit;
    const ended = new Promise<void>((resolve, reject) => {
      this.#endResolve = resolve;
      this.#endReject = reject;
    });
    if (this.#inFlightTasks < this.#options.maxTasks) this.#flush(true);
    return ended;
  }

  onDrain(listener: () => void): void {
    if (this.#hasRoom() || this.#settled) queueMicrotask(listener);
    else this.#drainListeners.push(listener);
  }

  onFailure(listener: (error: S3Error) => void): void {
    if (this.failure !== null) queueMicrotask(() => listener(this.failure!));
    else this.#failureListeners.push(listener);
  }

  destroy(): void {
    if (this.#settled) return;
    this.#fail(new S3Error("InternalError", CANCELLED, { source: "internal" }), true);
  }

  get bufferedBytes(): number {
    return this.#inFlightBytes + this.#batchBytes;
  }

  #hasRoom(): boolean {
    return this.#inFlightBytes + this.#batchBytes < this.#options.windowBytes;
  }

  /** Once per batch, from its first bytes: a batch waits at most `flushDelayMs`, however slowly bytes come. */
  #armFlushTimer(): void {
    if (this.#flushTimer !== null) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      if (this.#ended || this.failure !== null || this.#batchBytes === 0) return;
      if (this.#inFlightTasks < this.#options.maxTasks) this.#flush(false);
    }, this.#options.flushDelayMs);
    this.#flushTimer.unref();
  }

  #flush(last: boolean): void {
    if (this.#flushTimer !== null) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    // The structured clone copies each piece's whole ArrayBuffer: a view of larger memory (Buffer's pool, a
    // caller's buffer) is first cut down to its own bytes.
    const pieces = batch.map((piece) => (ownsItsMemory(piece) ? piece : new Uint8Array(piece)));
    const task: BodyTask = { session: this.#session, open: this.#spec, pieces, end: last };
    this.#spec = null;
    this.#inFlightBytes += bytes;
    this.#inFlightTasks++;
    this.#lastSent = last;
    this.#lanes
      .run<BodyResult>(this.#lane, "verifyBody", task)
      .then(
        (result) => this.#onResult(result, batch, bytes, last),
        (error: unknown) => this.#onPoolError(error, bytes),
      )
      // A fault of this file must fail the body, never become an unhandled rejection (a crash on Node 20).
      .catch((error: unknown) => this.#fail(toS3Error(error), true));
  }

  #onResult(result: BodyResult, pieces: readonly Buffer[], bytes: number, last: boolean): void {
    this.#inFlightBytes -= bytes;
    this.#inFlightTasks--;
    if (this.#settled) return;
    if (result.failure !== null) {
      // The thread already forgot the session.
      this.#fail(S3Error.fromData(result.failure), false);
      return;
    }
    this.decodedBytes = result.decodedBytes;
    this.complete = result.complete;
    const { extras, emits } = result;
    try {
      const emit = this.#emit!;
      for (let i = 0; i < emits.length; i += 3) {
        const index = emits[i]!;
        const bytesOf = index < pieces.length ? pieces[index]! : extras[index - pieces.length]!;
        const start = bytesOf.byteOffset + emits[i + 1]!;
        emit(Buffer.from(bytesOf.buffer, start, emits[i + 2]! - emits[i + 1]!));
        // The consumer may give up from inside emit (destroy(): its upstream refused the bytes): nothing more.
        if (this.#settled) return;
      }
    } catch (error) {
      this.#fail(toS3Error(error), !last);
      return;
    }
    if (last) {
      this.trailers = result.trailers;
      this.#settle();
      this.#endResolve?.();
      return;
    }
    // Bytes held back by the task limit, or the end, go now that a task came back.
    if (this.#ended && !this.#lastSent) this.#flush(true);
    else if (this.#batchBytes >= this.#options.batchBytes) this.#flush(false);
    else if (this.#batchBytes > 0 && this.#flushTimer === null) this.#armFlushTimer();
    if (this.#drainListeners.length > 0 && this.#hasRoom()) {
      const listeners = this.#drainListeners;
      this.#drainListeners = [];
      for (const listener of listeners) listener();
    }
  }

  #onPoolError(error: unknown, bytes: number): void {
    this.#inFlightBytes -= bytes;
    this.#inFlightTasks--;
    if (this.#settled) return;
    const reason = error instanceof Error ? error.message : String(error);
    // A full queue is load (503 SlowDown, retried by clients); anything else is this gateway's fault.
    const failure = /queue is at limit|no task queue available/i.test(reason)
      ? new S3Error("SlowDown", undefined, { source: "internal" })
      : new S3Error("InternalError", undefined, { source: "internal", cause: error });
    this.#fail(failure, true);
  }

  #fail(error: S3Error, threadMayKnowSession: boolean): void {
    if (this.#settled) return;
    this.failure = error;
    this.#settle();
    this.#batch = [];
    this.#batchBytes = 0;
    if (threadMayKnowSession) {
      // Best effort: a dead thread or a closed pool has forgotten the session anyway. Its failure adds
      // nothing to `error`, this body's verdict, which the gateway answers and logs with the request.
      this.#lanes.run(this.#lane, "closeBody", { session: this.#session }).catch(() => {});
    }
    this.#endReject?.(error);
    const listeners = this.#failureListeners;
    this.#failureListeners = [];
    for (const listener of listeners) {
      try {
        listener(error);
      } catch {
        // A listener's own failure must not stop the others; the verdict is already out.
      }
    }
  }

  #settle(): void {
    if (this.#settled) return; // once: onSettled gives the lane's queue reservation back
    this.#settled = true;
    if (this.#flushTimer !== null) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    const drains = this.#drainListeners;
    this.#drainListeners = [];
    for (const listener of drains) queueMicrotask(listener);
    this.#options.onSettled();
  }
}

function ownsItsMemory(piece: Buffer): boolean {
  const memory = piece.buffer;
  return memory instanceof ArrayBuffer && piece.byteOffset === 0 && piece.byteLength === memory.byteLength;
}
