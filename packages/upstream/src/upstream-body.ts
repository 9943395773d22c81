import { Readable } from "node:stream";

/**
 * A request body the gateway pushes into, chunk by chunk, while the client uploads it. Backpressure runs both
 * ways: `write()` returns false once `highWaterMarkBytes` are buffered here (the upstream socket is slower than
 * the client), and the drain callback fires when the buffer has emptied.
 */
export interface UpstreamBody {
  /** Exactly the bytes that will be written; sent as `content-length` (S3 needs it). */
  readonly contentLength: number;
  /** Bytes accepted by `write()` so far. */
  readonly bytesWritten: number;
  /**
   * Queues `chunk` (kept by reference: do not reuse its memory). Returns false when the caller should pause
   * the client until the drain callback runs. Throws after `end()`; ignored after `destroy()`.
   */
  write(chunk: Buffer): boolean;
  /** Sets the one drain callback (a later call replaces it); it runs after each `write()` that returned false. */
  onDrain(cb: () => void): void;
  /** Every byte has been written. Fewer or more bytes than `contentLength` fails the upstream request. */
  end(): void;
  /**
   * Aborts the upload: the upstream socket is destroyed before the body completes, so the store keeps nothing.
   * The call's `onError` receives `err` itself when it is an `S3Error`, else InternalError.
   */
  destroy(err: Error): void;
}

/** 64 KiB: a few socket writes' worth, so memory per upload stays small whatever the object size. */
const DEFAULT_HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * The body is a Readable because that is the stream undici writes with its own socket backpressure
 * (`writeStream` in client-h1: pause on a full socket, resume on 'drain'); exported only for `sendUpstream`.
 */
export class UpstreamBodyStream extends Readable implements UpstreamBody {
  readonly contentLength: number;
  bytesWritten = 0;
  #drain: (() => void) | null = null;
  #wantsDrain = false;
  #ended = false;

  constructor(contentLength: number, highWaterMarkBytes: number) {
    super({ highWaterMark: highWaterMarkBytes });
    this.contentLength = contentLength;
    // undici listens for 'error' only once the request is dispatched; a destroy() before that (or after the
    // request settled) would otherwise be an uncaught 'error' and crash the process (performance-facts.md).
    this.on("error", ignoreError);
  }

  write(chunk: Buffer): boolean {
    if (this.#ended) throw new Error("UpstreamBody.write() after end()");
    if (this.destroyed) return false;
    this.bytesWritten += chunk.length;
    const accepted = this.push(chunk);
    if (!accepted) this.#wantsDrain = true;
    return accepted;
  }

  onDrain(cb: () => void): void {
    this.#drain = cb;
  }

  end(): void {
    if (this.#ended || this.destroyed) return;
    this.#ended = true;
    this.push(null);
  }

  override _read(): void {
    // Readable asks for more once its buffer is below the high-water mark: the caller may resume the client.
    if (this.#wantsDrain) {
      this.#wantsDrain = false;
      this.#drain?.();
    }
  }
}

function ignoreError(): void {}

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
  return new UpstreamBodyStream(contentLength, options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES);
}
