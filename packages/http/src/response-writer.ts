/** The response: corked writes, backpressure, and abort handling over one uWS HttpResponse. */
export interface ResponseWriter {
  /** True once the connection is gone (client abort or `destroy()`); every later call is a no-op. */
  readonly aborted: boolean;
  /**
   * The one abort callback (a later call replaces it): the client went away before the response completed.
   * Not called for `destroy()`, nor after completion. Called at once if the client is already gone.
   */
  onAborted(cb: () => void): void;
  /**
   * Records the status (200–999) and headers; nothing is sent until the first body call, so the head and
   * body leave in one corked write. Hop-by-hop headers, `Content-Length` and `Date` are dropped (uWS writes
   * its own). The array is read when the head is sent: do not change it meanwhile. Throws on a second call
   * or on a header that would corrupt the response (CR/LF/NUL, a name that is not a token).
   */
  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void;
  /**
   * The whole body (or none) with its Content-Length, corked with the head. On HEAD, 204 and 304 no body is
   * sent (HEAD reports the body's length). Once the server is closing, asks the client to close too, and
   * the connection serves no other request (204 only asks: README "Draining"). After `write()`, writes `body`
   * as the last chunk and calls `finish()`.
   */
  end(body?: string | Uint8Array): void;
  /**
   * Completes a response that has no body here: HEAD (reports `contentLength`, as a GET would have), 304, or
   * an error answered to HEAD. Never on 204. The connection stays usable; once the server is closing, the
   * answer asks the client to close, and with a length the connection serves no other request. After
   * `write()`, the same as `finish()`.
   */
  endWithoutBody(contentLength?: number): void;
  /**
   * Streams a body chunk. With `totalLength` (given on the first call, fixed after), the response has that
   * exact Content-Length and completes when the last byte is handed over; with `null` it is chunked. `false`
   * means backpressure: wait for `onWritable` before writing again. The chunk is kept, not copied, until
   * written: do not change it meanwhile. Bytes beyond `totalLength` destroy the connection. On HEAD, 204 and
   * 304 the chunks are counted, never sent: HEAD reports `totalLength` (none when chunked). Once the server
   * is closing, a known-length response asks its client to close and its connection serves no other request; a
   * chunked one cannot (README "Draining").
   */
  write(chunk: Uint8Array, totalLength: number | null): boolean;
  /**
   * The one writable callback: called once the backpressure of the last `false` write has eased, on a
   * microtask when there was none. Chunked: uWS shows JS nothing of what it still holds, so this comes when
   * the socket took more of it, not all; a `write()` that meets the rest returns `false` again.
   */
  onWritable(cb: () => void): void;
  /** Ends a streamed body: the chunked terminator, or (known length) a check that every byte was written. */
  finish(): void;
  /** Closes the connection at once, so a truncated body can never look complete. No-op once completed. */
  destroy(): void;
}
