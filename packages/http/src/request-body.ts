/** The request body as a stream with backpressure. */
export interface RequestBody {
  /**
   * Registers the one body consumer (a later call replaces it). Chunks are copies the callee may keep; the
   * last call has `isLast` true (an empty chunk when the body ended on a boundary). Chunks that arrived
   * before registration, or while paused, are queued (at most one socket read, ~512 KiB) and delivered on
   * registration or `resume()`, synchronously. For a request without a body, one empty last chunk is
   * delivered at once. After the response has completed, the rest of the body is read and discarded (so the
   * connection can serve its next request) and the callback is not called again.
   */
  onData(cb: (chunk: Buffer, isLast: boolean) => void): void;
  /** Stops delivering chunks and stops reading the socket (TCP flow control reaches the client). */
  pause(): void;
  /** Delivers queued chunks, then reads the socket again unless paused meanwhile. */
  resume(): void;
  /** A `Content-Length` other than 0, or `Transfer-Encoding: chunked`. */
  readonly hasBody: boolean;
}
