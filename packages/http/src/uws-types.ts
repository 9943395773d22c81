/**
 * The slice of the uWebSockets.js API this package uses, typed from what the loaded build
 * (`@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0`) really does rather than from its shipped
 * `docs/index.d.ts` (which, for one, says `getQuery()` returns a string where it returns `undefined`
 * for a target without `?`). Nothing outside this package sees these types.
 */

/** What uWS accepts as bytes: strings are sent as UTF-8. */
export type UwsBytes = string | ArrayBuffer | Uint8Array;

/** Valid only until the response completes or aborts; any access after that throws. */
export interface UwsResponse {
  writeStatus(status: string): UwsResponse;
  writeHeader(name: string, value: string): UwsResponse;
  /** Chunked body part; `false` when it was buffered by uWS (wait for `onWritable`). */
  write(chunk: UwsBytes): boolean;
  /**
   * Whole body, Content-Length written by uWS; `closeConnection` adds `Connection: close` (after chunked
   * writes it writes that header into the body: never pass it then).
   */
  end(body?: UwsBytes, closeConnection?: boolean): UwsResponse;
  /**
   * With a length, this build writes `Content-Length` but leaves the response pending, waiting for that many
   * body bytes (see README); an explicit `undefined` is read as a length of 2^63. Call it with no argument,
   * unless a pending response is wanted (a closing answer: `HttpExchange.endHead`).
   */
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsResponse;
  /** Writes what the socket takes without buffering; `[ok, done]`. */
  tryEnd(chunk: UwsBytes, totalSize: number): [boolean, boolean];
  /** Closes the socket at once; runs the onAborted handler synchronously. */
  close(): UwsResponse;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): UwsResponse;
  onAborted(handler: () => void): UwsResponse;
  /** The ArrayBuffer is detached when the handler returns. */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  cork(cb: () => void): UwsResponse;
  pause(): void;
  resume(): void;
}

/** Stack-allocated by uWS: valid only during the synchronous request handler. */
export interface UwsRequest {
  /** Lower-case in this build. */
  getMethod(): string;
  /** The request-target up to `?`, as received (no decoding or normalisation). */
  getUrl(): string;
  /** After `?` (`''` for a bare `?`), `undefined` when there is no `?`. */
  getQuery(): string | undefined;
  /** Header names arrive lower-cased, values trimmed, duplicates in order. */
  forEach(cb: (name: string, value: string) => void): void;
}

export type UwsListenSocket = object;

export interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (listenSocket: UwsListenSocket | false) => void): UwsApp;
  /** Closes the listen sockets and every open connection. */
  close(): void;
}

export interface UwsAppOptions {
  key_file_name?: string;
  cert_file_name?: string;
  passphrase?: string;
}

export interface UwsModule {
  App(options?: UwsAppOptions): UwsApp;
  /** Throws `App construction failed` when the key or certificate cannot be loaded. */
  SSLApp(options: UwsAppOptions): UwsApp;
  us_listen_socket_close(listenSocket: UwsListenSocket): void;
  us_socket_local_port(socket: UwsListenSocket): number;
  /** `_cfg("silent")` stops uWS writing its own `uWebSockets: 20` response header. */
  _cfg(key: string): void;
}
