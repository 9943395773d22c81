import { copyBodyChunk } from "./body-copies.js";
import { httpCallbackErrorChannel } from "./http-channels.js";
import type { RequestBody } from "./request-body.js";
import {
  assertValidResponseHeaders,
  isDroppedResponseHeader,
  statusAllowsContentLength,
  statusLine,
} from "./response-head.js";
import type { ResponseWriter } from "./response-writer.js";
import type { UwsBytes, UwsResponse } from "./uws-types.js";

// Response states. uWS throws on any use of its HttpResponse in the last two.
const HEAD_OPEN = 0; // writeHead not called yet
const HEAD_SET = 1; // head recorded, nothing sent
const STREAMING = 2; // head (and maybe part of the body) sent
const DONE = 3; // response complete
const GONE = 4; // client aborted, or destroy()

const EMPTY = Buffer.alloc(0);

/** A body chunk kept past its uWS callback: a copy (none for an empty one). */
function copyOf(data: ArrayBuffer, length: number): Buffer {
  return length === 0 ? EMPTY : copyBodyChunk(data, length);
}
const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];
/** An empty cork: uncorking writes out what uWS holds for the socket. */
const FLUSH = (): void => {};

/** Shared by every exchange of a server. */
export interface ServerState {
  /** Set by `close()`: responses ask their client to close the connection where uWS allows it. */
  draining: boolean;
}

// `cork` takes a callback and gives it no arguments: one static function per operation, with the exchange
// passed through this variable, avoids allocating a closure per write. Each callback reads it first, so a
// nested cork of another exchange cannot confuse it.
let corkTarget: HttpExchange | null = null;

/**
 * One request/response over one uWS HttpResponse: implements `RequestBody` and `ResponseWriter`, so a request
 * costs one object here. Every field is set in the constructor (one hidden class).
 */
export class HttpExchange implements RequestBody, ResponseWriter {
  hasBody: boolean;
  readonly #res: UwsResponse;
  readonly #server: ServerState;
  #isHead: boolean;
  #state: number;
  #clientAborted: boolean;
  #abortCallback: (() => void) | null;
  #writableCallback: (() => void) | null;
  #waitingWritable: boolean;
  #nativeWritable: ((offset: number) => boolean) | null;
  #status: number;
  #headers: ReadonlyArray<readonly [string, string]>;
  /** HEAD, 204 or 304: never send body bytes. */
  #bodiless: boolean;
  /** Content-Length of a streamed body, -1 for chunked. */
  #totalLength: number;
  /** Body bytes uWS has accepted (its write offset). */
  #sentBytes: number;
  /** Body bytes the caller has handed to `write()`. */
  #handedBytes: number;
  /** `write()` was called: `end()` and `endWithoutBody()` complete the streamed body (also HEAD/204/304). */
  #streamed: boolean;
  /** The unsent tail of a known-length chunk that hit backpressure, starting at write offset `#pendingStart`. */
  #pendingChunk: Uint8Array | null;
  #pendingStart: number;
  /** Chunks written while `#pendingChunk` waited (callers ignoring `false`). */
  #laterChunks: Uint8Array[] | null;
  #finishRequested: boolean;
  /** Ask the client to close after `end()`: set when a callback threw and the exchange is in doubt. */
  #closeAfter: boolean;
  /** A known-length body streamed while draining: its head says `Connection: close` (see `#corkedFirstWrite`). */
  #closing: boolean;
  /** uWS may still deliver request body data. */
  #nativeBodyOpen: boolean;
  #discardBody: boolean;
  #dataCallback: ((chunk: Buffer, isLast: boolean) => void) | null;
  #paused: boolean;
  #nativePaused: boolean;
  #queued: Buffer[] | null;
  #queuedLast: boolean;
  /** `lendChunks()` was called: chunks delivered straight from a read are views, not copies. */
  #lendChunks: boolean;
  #draining: boolean;
  #corkBody: UwsBytes;
  #corkChunk: Uint8Array;
  #corkLength: number;
  #corkOk: boolean;

  /** Attaches uWS onAborted at once: uWS terminates the process if a handler returns without one. */
  constructor(res: UwsResponse, server: ServerState) {
    this.hasBody = false;
    this.#res = res;
    this.#server = server;
    this.#isHead = false;
    this.#state = HEAD_OPEN;
    this.#clientAborted = false;
    this.#abortCallback = null;
    this.#writableCallback = null;
    this.#waitingWritable = false;
    this.#nativeWritable = null;
    this.#status = 200;
    this.#headers = NO_HEADERS;
    this.#bodiless = false;
    this.#totalLength = -1;
    this.#sentBytes = 0;
    this.#handedBytes = 0;
    this.#streamed = false;
    this.#pendingChunk = null;
    this.#pendingStart = 0;
    this.#laterChunks = null;
    this.#finishRequested = false;
    this.#closeAfter = false;
    this.#closing = false;
    this.#nativeBodyOpen = false;
    this.#discardBody = false;
    this.#dataCallback = null;
    this.#paused = false;
    this.#nativePaused = false;
    this.#queued = null;
    this.#queuedLast = false;
    this.#lendChunks = false;
    this.#draining = false;
    this.#corkBody = "";
    this.#corkChunk = EMPTY;
    this.#corkLength = -1;
    this.#corkOk = true;
    res.onAborted(() => this.#handleAbort());
  }

  /**
   * Called once the head is read and accepted, still inside the uWS handler: uWS drops body data that
   * arrives while no data handler is attached, so it is attached now whoever reads the body later.
   */
  accept(isHead: boolean, hasBody: boolean): void {
    this.#isHead = isHead;
    this.#bodiless = isHead;
    this.hasBody = hasBody;
    if (hasBody) {
      this.#nativeBodyOpen = true;
      this.#res.onData((chunk, isLast) => this.#handleData(chunk, isLast));
    }
  }

  /** Refuses the request inside the uWS handler (already corked) and closes the connection after it. */
  reject(status: number): void {
    this.#state = DONE;
    this.#res.writeStatus(statusLine(status)).end("", true);
  }

  get aborted(): boolean {
    return this.#state === GONE;
  }

  // ---- RequestBody ----

  onData(cb: (chunk: Buffer, isLast: boolean) => void): void {
    this.#dataCallback = cb;
    if (!this.hasBody) {
      this.#deliver(EMPTY, true);
      return;
    }
    this.#flow();
  }

  lendChunks(): void {
    this.#lendChunks = true;
  }

  pause(): void {
    this.#paused = true;
    if (this.#nativeBodyOpen && !this.#discardBody && !this.#nativePaused && this.#state < DONE) {
      this.#nativePaused = true;
      this.#res.pause();
    }
  }

  resume(): void {
    this.#paused = false;
    this.#flow();
  }

  // ---- ResponseWriter ----

  onAborted(cb: () => void): void {
    if (this.#clientAborted) this.#callSafely(cb, "aborted");
    else this.#abortCallback = cb;
  }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    if (this.#state >= DONE) return;
    if (this.#state !== HEAD_OPEN) throw new Error("writeHead() called twice");
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      throw new RangeError(`invalid response status ${status}`);
    }
    assertValidResponseHeaders(headers);
    this.#status = status;
    this.#headers = headers;
    this.#bodiless = this.#isHead || status === 204 || status === 304;
    this.#state = HEAD_SET;
  }

  end(body?: string | Uint8Array): void {
    if (this.#state >= DONE) return;
    if (this.#streamed) {
      if (body !== undefined && body.length > 0) {
        this.write(
          typeof body === "string" ? Buffer.from(body) : body,
          this.#totalLength < 0 ? null : this.#totalLength,
        );
      }
      this.finish();
      return;
    }
    this.#releaseBody();
    this.#corkBody = body ?? "";
    corkTarget = this;
    this.#res.cork(HttpExchange.#corkedEnd);
  }

  endWithoutBody(contentLength?: number): void {
    if (this.#state >= DONE) return;
    if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) {
      throw new RangeError(`invalid content length ${contentLength}`);
    }
    if (this.#streamed) {
      this.finish();
      return;
    }
    this.#endBodiless(contentLength ?? -1);
  }

  write(chunk: Uint8Array, totalLength: number | null): boolean {
    if (this.#state >= DONE) return true;
    if (!this.#streamed) {
      if (totalLength !== null && !(Number.isSafeInteger(totalLength) && totalLength >= 0)) {
        throw new RangeError(`invalid total length ${totalLength}`);
      }
      this.#totalLength = totalLength ?? -1;
      this.#streamed = true;
    }
    this.#handedBytes += chunk.length;
    if (this.#totalLength >= 0 && this.#handedBytes > this.#totalLength) {
      // More bytes than the Content-Length sent: they would be read as the start of the next response.
      this.destroy();
      return true;
    }
    if (this.#bodiless) {
      // HEAD/204/304 send no body: complete at the last promised byte, as tryEnd does for the same GET.
      if (this.#handedBytes === this.#totalLength) this.#endBodiless(this.#totalLength);
      return true;
    }
    if (this.#state === STREAMING && this.#pendingChunk !== null) {
      if (this.#laterChunks === null) this.#laterChunks = [chunk];
      else this.#laterChunks.push(chunk);
      return false;
    }
    this.#corkChunk = chunk;
    corkTarget = this;
    this.#res.cork(this.#state === STREAMING ? HttpExchange.#corkedWrite : HttpExchange.#corkedFirstWrite);
    return this.#corkOk;
  }

  onWritable(cb: () => void): void {
    if (this.#state >= DONE) return;
    if (this.#waitingWritable) this.#writableCallback = cb;
    // Nothing is waiting to drain, so uWS would never call back: let the caller go on (guarded like uWS's calls).
    else
      queueMicrotask(() => {
        if (this.#state < DONE) this.#callSafely(cb, "writable");
      });
  }

  finish(): void {
    if (this.#state >= DONE) return;
    if (this.#state !== STREAMING) {
      if (this.#bodiless) this.#endBodiless(this.#totalLength);
      else this.end();
      return;
    }
    if (this.#totalLength < 0) {
      this.#releaseBody();
      corkTarget = this;
      this.#res.cork(HttpExchange.#corkedFinishChunked);
      return;
    }
    if (this.#pendingChunk !== null) {
      this.#finishRequested = true;
      return;
    }
    // Known length, every byte handed over and yet not complete (tryEnd completes at the last byte): short.
    this.destroy();
  }

  destroy(): void {
    // After completion the connection may already carry the next request: nothing to close.
    if (this.#state >= DONE) return;
    this.#state = GONE;
    this.#dropStreams();
    this.#res.close(); // runs handleAbort synchronously, which ignores it (state is GONE)
  }

  // ---- uWS callbacks ----

  #handleAbort(): void {
    // After completion (a closing response stays pending in uWS until its connection goes): not an abort.
    if (this.#state >= DONE) return;
    this.#state = GONE;
    this.#clientAborted = true;
    this.#dropStreams();
    const cb = this.#abortCallback;
    this.#abortCallback = null;
    if (cb !== null) this.#callSafely(cb, "aborted");
  }

  #handleData(data: ArrayBuffer, isLast: boolean): void {
    if (isLast) this.#nativeBodyOpen = false;
    if (this.#discardBody || this.#state === GONE) return;
    const length = data.byteLength;
    if (length === 0 && !isLast) return;
    // uWS detaches the ArrayBuffer when this callback returns: a chunk delivered now may be lent (a view that
    // dies with the callback, `lendChunks`); one kept for later is copied.
    if (this.#dataCallback !== null && !this.#paused && this.#queued === null) {
      this.#deliver(
        this.#lendChunks && length > 0 ? Buffer.from(data, 0, length) : copyOf(data, length),
        isLast,
      );
      return;
    }
    const chunk = copyOf(data, length);
    if (this.#queued === null) this.#queued = [chunk];
    else this.#queued.push(chunk);
    if (isLast) this.#queuedLast = true;
    else if (!this.#nativePaused) {
      this.#nativePaused = true;
      this.#res.pause();
    }
  }

  #handleWritable(offset: number): boolean {
    if (this.#state !== STREAMING) {
      // A closing response is complete yet still pending in uWS: what uWS holds for it is flushed as below.
      if (this.#closing && this.#state === DONE) this.#res.cork(FLUSH);
      return true;
    }
    if (this.#pendingChunk === null) {
      // While a JS onWritable handler is registered, uWS leaves its own buffer (a chunked write() it could not
      // send, a head) undrained (HttpContext on_writable): uncorking writes it. What the socket still refuses
      // keeps uWS polling, so this runs again until it is out; a write() meanwhile meets it and returns false.
      this.#res.cork(FLUSH);
    } else {
      const tail = this.#pendingChunk.subarray(offset - this.#pendingStart);
      this.#pendingChunk = null;
      if (!this.#sendKnownLength(tail, offset)) return false;
      while (this.#laterChunks !== null && this.#state === STREAMING) {
        const next = this.#laterChunks.shift()!;
        if (this.#laterChunks.length === 0) this.#laterChunks = null;
        if (!this.#sendKnownLength(next, this.#sentBytes)) return false;
      }
      if (this.#finishRequested && this.#state === STREAMING) {
        this.destroy(); // finish() came before the promised length was reached
        return true;
      }
    }
    this.#waitingWritable = false;
    const cb = this.#writableCallback;
    if (cb !== null) {
      this.#writableCallback = null;
      this.#callSafely(cb, "writable");
    }
    return true;
  }

  // ---- corked operations ----

  static #corkedEnd(): void {
    const x = corkTarget!;
    corkTarget = null;
    const body = x.#corkBody;
    x.#corkBody = "";
    x.#sendHead();
    x.#state = DONE;
    if (x.#bodiless) {
      const length = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      x.#endHead(x.#isHead ? length : -1);
    } else x.#res.end(body, x.#server.draining || x.#closeAfter);
  }

  static #corkedEndWithoutBody(): void {
    const x = corkTarget!;
    corkTarget = null;
    x.#sendHead();
    x.#state = DONE;
    x.#endHead(x.#corkLength);
  }

  /**
   * Ends a bodiless response with `length` as its Content-Length (-1: none). This build's `endWithoutBody(n)`
   * writes the length but leaves the response pending (it waits for n body bytes), so the next request on the
   * connection closes it: normally the header is written here and `endWithoutBody()` has no argument. A draining
   * server, or an exchange in doubt (a callback threw), wants exactly that: `endWithoutBody(n, true)` writes
   * `Connection: close` too, and uWS closes when the client does (as it must) or sends more, never serving a
   * next request (at once for n = 0). Without a length (204, or none known) the header can only ask.
   */
  #endHead(length: number): void {
    const res = this.#res;
    const withLength = length >= 0 && statusAllowsContentLength(this.#status);
    if (this.#server.draining || this.#closeAfter) {
      if (withLength) {
        res.endWithoutBody(length, true);
        return;
      }
      res.writeHeader("Connection", "close");
    } else if (withLength) res.writeHeader("Content-Length", String(length));
    res.endWithoutBody();
  }

  /**
   * A server that says `Connection: close` must close after that response (RFC 9112 §9.6), and uWS has no close
   * after a streamed one. So while draining, a known-length body is announced with its true Content-Length
   * (an empty `tryEnd`) and then sent with uWS told one byte more: the response never completes in uWS, which
   * therefore closes the connection when the client does (as it must) or sends anything more, never serving a
   * next request; `closeAll()` ends the rest. A chunked body cannot be held that way and does not say close.
   */
  static #corkedFirstWrite(): void {
    const x = corkTarget!;
    corkTarget = null;
    x.#sendHead();
    if (x.#server.draining && x.#totalLength > 0) {
      x.#res.writeHeader("Connection", "close");
      x.#res.tryEnd(EMPTY, x.#totalLength);
      x.#closing = true;
    }
    x.#writeChunk();
  }

  static #corkedWrite(): void {
    const x = corkTarget!;
    corkTarget = null;
    x.#writeChunk();
  }

  static #corkedFinishChunked(): void {
    const x = corkTarget!;
    corkTarget = null;
    x.#state = DONE;
    // Never pass closeConnection here: after chunks, this build writes "Connection: close" into the body.
    x.#res.end("");
  }

  /** Completes a HEAD/204/304 response, reporting `length` as its Content-Length (none when -1). */
  #endBodiless(length: number): void {
    this.#releaseBody();
    this.#corkLength = length;
    corkTarget = this;
    this.#res.cork(HttpExchange.#corkedEndWithoutBody);
  }

  /** Status line and headers; inside a cork, so they leave with the body in one write. */
  #sendHead(): void {
    const res = this.#res;
    res.writeStatus(statusLine(this.#status));
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!;
      if (!isDroppedResponseHeader(header[0])) res.writeHeader(header[0], header[1]);
    }
    this.#state = STREAMING;
  }

  #writeChunk(): void {
    const chunk = this.#corkChunk;
    this.#corkChunk = EMPTY;
    if (this.#totalLength >= 0) {
      this.#corkOk = this.#sendKnownLength(chunk, this.#sentBytes);
      return;
    }
    const ok = this.#res.write(chunk); // uWS buffers what the socket does not take
    if (!ok) this.#awaitWritable();
    this.#corkOk = ok;
  }

  /**
   * tryEnd: uWS writes what the socket takes and keeps nothing, so the unsent tail is kept here (a view, not
   * a copy) and retried from the write offset when uWS reports the socket writable.
   */
  #sendKnownLength(chunk: Uint8Array, start: number): boolean {
    // uWS forbids touching the response once complete: let go of the request body before the last byte.
    if (start + chunk.length === this.#totalLength) this.#releaseBody();
    const [ok, done] = this.#res.tryEnd(chunk, this.#closing ? this.#totalLength + 1 : this.#totalLength);
    if (done) {
      this.#state = DONE;
      this.#sentBytes = this.#totalLength;
      this.#laterChunks = null;
      return true;
    }
    if (ok) {
      this.#sentBytes = start + chunk.length;
      // Only when closing (uWS waits for one byte more): every promised byte is out, the response complete.
      if (this.#sentBytes === this.#totalLength) {
        this.#state = DONE;
        this.#laterChunks = null;
      }
      return true;
    }
    const offset = this.#res.getWriteOffset();
    this.#sentBytes = offset;
    this.#pendingChunk = chunk.subarray(offset - start);
    this.#pendingStart = offset;
    this.#awaitWritable();
    return false;
  }

  #awaitWritable(): void {
    this.#waitingWritable = true;
    if (this.#nativeWritable === null) {
      this.#nativeWritable = (offset) => this.#handleWritable(offset);
      this.#res.onWritable(this.#nativeWritable);
    }
  }

  // ---- body flow ----

  /** Delivers queued chunks while not paused, then lets uWS read again if nothing is left queued. */
  #flow(): void {
    if (!this.#draining) {
      this.#draining = true;
      while (this.#queued !== null && !this.#paused && this.#dataCallback !== null) {
        const queued = this.#queued;
        const chunk = queued.shift()!;
        const last = queued.length === 0 && this.#queuedLast;
        if (queued.length === 0) this.#queued = null;
        this.#deliver(chunk, last);
      }
      this.#draining = false;
    }
    // Also once the body has ended: uWS reads nothing more, the next request included, until resumed.
    if (this.#nativePaused && !this.#paused && this.#queued === null && this.#state < DONE) {
      this.#nativePaused = false;
      this.#res.resume();
    }
  }

  #deliver(chunk: Buffer, isLast: boolean): void {
    const cb = this.#dataCallback;
    if (cb === null) return;
    try {
      cb(chunk, isLast);
    } catch (err) {
      this.callbackFailed(err, "data");
    }
  }

  /**
   * Called before the response completes: the rest of the body is read and dropped so the connection can go
   * on, and a paused socket is resumed while uWS still allows touching it (even after the body's last chunk:
   * a paused socket would never read the next request).
   */
  #releaseBody(): void {
    this.#dataCallback = null;
    this.#queued = null;
    if (this.#nativePaused) {
      this.#nativePaused = false;
      this.#res.resume();
    }
    if (this.#nativeBodyOpen) this.#discardBody = true;
  }

  #dropStreams(): void {
    this.#nativeBodyOpen = false;
    this.#dataCallback = null;
    this.#queued = null;
    this.#pendingChunk = null;
    this.#laterChunks = null;
    this.#writableCallback = null;
  }

  // ---- callback errors ----

  /** Runs a caller's callback from a uWS event, so its exception cannot unwind into uWS. */
  #callSafely(cb: () => void, which: "writable" | "aborted"): void {
    try {
      cb();
    } catch (err) {
      this.callbackFailed(err, which);
    }
  }

  /** A caller's callback threw: report it, and answer 500 or close, since the exchange is now in doubt. */
  callbackFailed(error: unknown, callback: "handler" | "data" | "writable" | "aborted"): void {
    if (httpCallbackErrorChannel.hasSubscribers) httpCallbackErrorChannel.publish({ error, callback });
    if (this.#state >= DONE) return;
    if (this.#state === STREAMING) {
      this.destroy();
      return;
    }
    this.#releaseBody();
    this.#status = 500;
    this.#headers = NO_HEADERS;
    this.#bodiless = this.#isHead;
    // A HEAD streamed nothing yet: forget its writes, the 500 replaces them.
    this.#streamed = false;
    this.#totalLength = -1;
    this.#handedBytes = 0;
    this.#state = HEAD_SET;
    this.#closeAfter = true;
    this.end();
  }
}
