import { InvalidUpstreamRequestError } from "./h1/request-head.js";

/**
 * A request body the gateway pushes into, chunk by chunk, while the client uploads it. Backpressure runs both
 * ways: `write()` returns false once the upstream socket (or, before it is connected, this body's queue of
 * `highWaterMarkBytes`) is full, and the drain callback fires when it has emptied.
 */
export interface UpstreamBody {
  /** Exactly the bytes that will be written; sent as `content-length` (S3 needs it). */
  readonly contentLength: number;
  /** Bytes accepted by `write()` so far. */
  readonly bytesWritten: number;
  /**
   * Queues `chunk` (kept by reference: do not reuse its memory). Returns false when the caller should pause
   * the client until the drain callback runs. Throws after `end()`; ignored after `destroy()`. More bytes than
   * `contentLength` fail the call.
   */
  write(chunk: Buffer): boolean;
  /** Sets the one drain callback (a later call replaces it); it runs after each `write()` that returned false. */
  onDrain(cb: () => void): void;
  /**
   * Every byte has been written. The body's last byte is held back until now, so a body destroyed after its
   * last `write()` (a failed verdict) never completes upstream. Fewer bytes than `contentLength` fail the call.
   */
  end(): void;
  /**
   * Aborts the upload: the upstream socket is destroyed before the body completes, so the store keeps nothing.
   * The call's `onError` receives `err` itself when it is an `S3Error`, else InternalError.
   */
  destroy(err: Error): void;
}

/** Where a body's bytes go once its request has a connection: the connection's socket. */
export interface BodySink {
  /** Writes a chunk; false when the socket's buffer is full (the sink calls `drained()` later). */
  writeBody(chunk: Buffer): boolean;
  /** The last byte has been written. */
  endBody(): void;
}

/** The call that owns a body: told when the body fails, so it can fail the request wherever it is. */
export interface BodyOwner {
  bodyFailed(err: Error): void;
}

/** 64 KiB: a few socket writes' worth, so memory per upload stays small whatever the object size. */
const DEFAULT_HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * The body's bytes are written straight to the socket once the request has one; before that (connecting, or
 * queued behind the pool's connection limit) they wait here. Exported only for `sendUpstream`.
 */
export class StreamedUpstreamBody implements UpstreamBody {
  readonly contentLength: number;
  bytesWritten = 0;
  readonly #highWaterMarkBytes: number;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #sink: BodySink | null = null;
  #owner: BodyOwner | null = null;
  #drain: (() => void) | null = null;
  #wantsDrain = false;
  #ended = false;
  #sinkEnded = false;
  #failed = false;
  /** The body's last byte, held back until `end()`. */
  #tail: Buffer | null = null;
  #error: Error | null = null;
  /** The request settled without needing the rest (an early response): bytes are accepted and dropped. */
  #discarding = false;

  constructor(contentLength: number, highWaterMarkBytes: number) {
    this.contentLength = contentLength;
    this.#highWaterMarkBytes = highWaterMarkBytes;
  }

  write(data: Buffer): boolean {
    let chunk = data;
    if (this.#ended) throw new Error("UpstreamBody.write() after end()");
    if (this.#failed) return false;
    this.bytesWritten += chunk.length;
    if (this.#discarding) return true;
    if (this.bytesWritten > this.contentLength) {
      this.destroy(new InvalidUpstreamRequestError("request body longer than its content-length"));
      return false;
    }
    if (this.bytesWritten === this.contentLength && chunk.length > 0) {
      // The last byte waits for end(): the gateway ends a body only after its verdict (signatures, SHA-256),
      // and an upstream that never got the last byte cannot store the object whatever the verdict was.
      this.#tail = chunk.subarray(chunk.length - 1);
      chunk = chunk.subarray(0, chunk.length - 1);
      if (chunk.length === 0) return true;
    }
    if (this.#sink !== null && this.#queue.length === 0) {
      const ok = this.#sink.writeBody(chunk);
      if (!ok) this.#wantsDrain = true;
      return ok;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes < this.#highWaterMarkBytes) return true;
    this.#wantsDrain = true;
    return false;
  }

  onDrain(cb: () => void): void {
    this.#drain = cb;
  }

  end(): void {
    if (this.#ended || this.#failed) return;
    this.#ended = true;
    if (this.#discarding) return;
    if (this.bytesWritten !== this.contentLength) {
      this.destroy(new InvalidUpstreamRequestError("request body shorter than its content-length"));
      return;
    }
    if (this.#sink !== null && this.#queue.length === 0) this.#endSink();
  }

  destroy(err: Error): void {
    if (this.#failed || this.#discarding) return;
    this.#failed = true;
    this.#error = err;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#tail = null;
    this.#sink = null;
    this.#owner?.bodyFailed(err);
  }

  /** Called by `sendUpstream` once: the call that fails when this body does. */
  bind(owner: BodyOwner): void {
    this.#owner = owner;
    if (this.#error !== null) owner.bodyFailed(this.#error);
  }

  /** Called by the connection when the request head is on the wire: queued bytes go out, then the rest. */
  attach(sink: BodySink): void {
    if (this.#failed) return;
    this.#sink = sink;
    this.flush();
  }

  /** Called by the connection when its socket drained: writes what waited, then lets the producer go on. */
  flush(): void {
    const sink = this.#sink;
    if (sink === null) return;
    while (this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queuedBytes -= chunk.length;
      if (!sink.writeBody(chunk)) return;
      if (this.#sink !== sink) return; // the write failed the call
    }
    if (this.#ended) {
      this.#endSink();
      return;
    }
    if (this.#wantsDrain) {
      this.#wantsDrain = false;
      this.#drain?.();
    }
  }

  /** The request settled before the body was sent (the upstream answered early): drop the rest quietly. */
  discard(): void {
    if (this.#failed) return;
    this.#discarding = true;
    this.#sink = null;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#wantsDrain) {
      this.#wantsDrain = false;
      this.#drain?.();
    }
  }

  get sent(): boolean {
    return this.#sinkEnded;
  }

  #endSink(): void {
    if (this.#sinkEnded) return;
    this.#sinkEnded = true;
    const sink = this.#sink;
    if (sink === null) return;
    if (this.#tail !== null) sink.writeBody(this.#tail);
    this.#tail = null;
    if (this.#sink === sink) sink.endBody();
  }
}

/**
 * A body of `contentLength` bytes to hand to `sendUpstream` (once). Zero-length bodies are fine: call `end()`
 * at once, or pass `body: null` for methods that take no body.
 */
export function createUpstreamBody(
  contentLength: number,
  options: { highWaterMarkBytes?: number } = {},
): UpstreamBody {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new TypeError(`contentLength must be a non-negative integer, got ${String(contentLength)}`);
  }
  return new StreamedUpstreamBody(contentLength, options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES);
}
