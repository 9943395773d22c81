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
  /**
   * From now on, a chunk delivered straight from a socket read (not one queued before registration or while
   * paused) is a view of uWS's receive buffer, valid only until the callback returns: the consumer reads or
   * copies it before returning and keeps no reference to it (uWS detaches the memory then, and a kept view
   * reads as empty). For a consumer that copies every byte anyway, this saves a copy and a short-lived
   * Buffer per read (bench/proxy put-1m: a quarter of osp's CPU per upload).
   */
  lendChunks(): void;
  /** Stops delivering chunks and stops reading the socket (TCP flow control reaches the client). */
  pause(): void;
  /** Delivers queued chunks, then reads the socket again unless paused meanwhile. */
  resume(): void;
  /** A `Content-Length` other than 0, or `Transfer-Encoding: chunked`. */
  readonly hasBody: boolean;
}
