/**
 * The client's request body on its way through osp: held paused at the socket while the pipeline
 * authenticates and authorizes, then fed through the body plan's verifier (body-plan.ts), inline or on a
 * verify-pool thread, either whole into a spool buffer (`spool`: the store sees nothing before the verdict) or
 * streamed into the upstream request with backpressure both ways (`stream`: the last byte is held back until
 * the verdict, docs/s3-sigv4.md "hold-back"). Counts the bytes in and watches `limits.idleTimeout`.
 */
import { S3Error } from "@osp/errors";
import type { RequestBody } from "@osp/http";
import type { UpstreamBody } from "@osp/upstream";
import type { BodyPlan } from "./body-plan.js";
import type { RequestRecord } from "./request-record.js";

type Consumer = (chunk: Buffer, last: boolean) => void;

/** What an answered request's body gets: read and dropped, so the connection can serve the next request. */
const DISCARD: Consumer = () => {};

export class BodyPump {
  readonly #body: RequestBody;
  readonly #record: RequestRecord;
  readonly #idleTimeoutMs: number;
  readonly #onIdle: () => void;
  #idleTimer: NodeJS.Timeout | null;
  /** Chunks that arrived before the pipeline was ready for them (the body is paused meanwhile). */
  #pending: Buffer[] | null;
  #pendingLast: boolean;
  #consumer: Consumer | null;
  /** `spool` asked for lent chunks (RequestBody.lendChunks): views that die with their callback. */
  #lent: boolean;

  /** `onIdle`: the body was silent for `idleTimeoutMs`. */
  constructor(body: RequestBody, record: RequestRecord, idleTimeoutMs: number, onIdle: () => void) {
    this.#body = body;
    this.#record = record;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#onIdle = onIdle;
    this.#idleTimer = null;
    this.#pending = null;
    this.#pendingLast = false;
    this.#consumer = null;
    this.#lent = false;
    // Armed first: a body that has already ended delivers its last chunk at once, which clears the timer.
    this.#armIdleTimer();
    body.onData((chunk, last) => this.#onData(chunk, last));
  }

  /**
   * Reads the whole body through the plan's verifier into `buffer` and resolves with the verified (decoded)
   * bytes, or rejects with the verifier's verdict: the store never sees a byte of a body that fails.
   */
  spool(plan: BodyPlan, buffer: Buffer): Promise<Buffer> {
    const length = plan.upstreamLength;
    let filled = 0;
    const keep = (data: Buffer): void => {
      // The framing already bounds the decoded length; a verifier emitting more is a bug, not a client's.
      if (filled + data.length > length)
        throw new S3Error("InternalError", undefined, { source: "internal" });
      data.copy(buffer, filled);
      filled += data.length;
    };
    const complete = (): Buffer => {
      if (filled !== length) throw new S3Error("IncompleteBody");
      return buffer.subarray(0, length);
    };
    return new Promise((resolve, reject) => {
      // Inline, every byte is read (hashed, decoded) and copied into `buffer` before the chunk's callback
      // returns, and verifiers keep only copies (the held-back tail, a header line cut by a read): the socket's
      // own memory can be lent for the callback instead of copied first. A pooled verifier takes the chunk's
      // memory to its thread, so it gets copies.
      if (plan.pooledVerifier === null) {
        this.#body.lendChunks();
        this.#lent = true;
      }
      this.#pump(plan, keep, () => resolve(complete()), reject);
    });
  }

  /**
   * Streams the body through the plan's verifier into `upstream`, with backpressure both ways. A failed
   * verdict goes to `failed`, which tears the upstream request down before it completes (its last byte is
   * held back until `end()`).
   */
  stream(plan: BodyPlan, upstream: UpstreamBody, failed: (err: unknown) => void): void {
    // The upstream socket keeps what it cannot write at once: lent chunks (spool) must never reach it.
    if (this.#lent) throw new S3Error("InternalError", undefined, { source: "internal" });
    const emit = (data: Buffer): void => {
      if (!upstream.write(data)) {
        this.#body.pause();
        upstream.onDrain(() => this.#body.resume());
      }
    };
    this.#pump(plan, emit, () => upstream.end(), failed);
  }

  /** The request was answered: whatever the client still sends is read and dropped. */
  discard(): void {
    this.#consumer = DISCARD;
    this.#pending = null;
    this.#body.resume();
  }

  /** The exchange is over: no more idle deadline. */
  stop(): void {
    this.#clearIdleTimer();
  }

  /**
   * Feeds the body through the plan's verifier: `emit` receives the verified (decoded) bytes, `finished` runs
   * once the verdict on the whole body is in (for a pooled verifier, later: the held-back tail comes with it),
   * `failed` with a failed verdict (a bad chunk signature found meanwhile fails at once). Backpressure from a
   * pooled verifier pauses the client.
   */
  #pump(plan: BodyPlan, emit: (data: Buffer) => void, finished: () => void, failed: (err: unknown) => void) {
    const pooled = plan.pooledVerifier;
    if (pooled !== null) {
      pooled.onFailure(failed);
      this.#consume((chunk, last) => {
        try {
          // The chunk's memory may move to the thread: nothing here reads it afterwards.
          if (!pooled.write(chunk, emit) && !last) {
            this.#body.pause();
            pooled.onDrain(() => this.#body.resume());
          }
          if (last) pooled.end(emit).then(finished).catch(failed);
        } catch (err) {
          failed(err);
        }
      });
      return;
    }
    const verifier = plan.verifier;
    this.#consume((chunk, last) => {
      try {
        if (verifier === null) emit(chunk);
        else verifier.write(chunk, emit);
        if (last) {
          verifier?.end(emit);
          finished();
        }
      } catch (err) {
        failed(err);
      }
    });
  }

  #consume(consumer: Consumer): void {
    this.#consumer = consumer;
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) {
      for (let i = 0; i < pending.length; i++)
        consumer(pending[i]!, this.#pendingLast && i === pending.length - 1);
    }
    if (!this.#pendingLast) this.#body.resume();
  }

  #onData(chunk: Buffer, last: boolean): void {
    this.#record.bytesIn += chunk.length;
    if (last) this.#clearIdleTimer();
    else this.#armIdleTimer();
    if (this.#consumer !== null) {
      this.#consumer(chunk, last);
      return;
    }
    // The pipeline is still authenticating: keep the bytes and stop the flow.
    if (this.#pending === null) this.#pending = [];
    this.#pending.push(chunk);
    this.#pendingLast = last;
    this.#body.pause();
  }

  #armIdleTimer(): void {
    if (this.#idleTimer !== null) this.#idleTimer.refresh();
    else this.#idleTimer = setTimeout(this.#onIdle, this.#idleTimeoutMs);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}
