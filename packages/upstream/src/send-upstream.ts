import type { S3Error } from "@osp/errors";
import { type Dispatcher, util as undiciUtil } from "undici";
import { mapUpstreamError } from "./map-upstream-error.js";
import { type UpstreamBody, UpstreamBodyStream } from "./upstream-body.js";
import { type UpstreamRequestEvent, upstreamRequestChannel } from "./upstream-channels.js";
import type { UpstreamPools } from "./upstream-pools.js";

/** One request to an upstream origin, fully prepared by the gateway (signed, host chosen, headers filtered). */
export interface UpstreamRequest {
  /** `scheme://host[:port]` from the configuration, never from the client. */
  readonly origin: string;
  readonly method: string;
  /**
   * Raw request target: the already percent-encoded path, then `?` and the query. Sent byte for byte (no WHATWG
   * URL normalisation: `/b/a/../c//d` and `%2e%2e` stay as they are). Must start with `/`, no spaces/controls.
   */
  readonly path: string;
  /**
   * Exactly the headers to send, in order, `host` included. Wire order: `host`, then undici's `connection`,
   * then these in order, then `content-length` (taken from `body.contentLength`; a `content-length` here must
   * agree). Hop-by-hop headers (`transfer-encoding`, `connection` other than keep-alive/close, `keep-alive`,
   * `upgrade`, `expect`) are refused: strip them before calling.
   */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** From `createUpstreamBody`; `null` = no body (PUT/POST without one still send `content-length: 0`). */
  readonly body: UpstreamBody | null;
}

/**
 * Receives the response. Callbacks never run synchronously inside `sendUpstream`. Exactly one of `onComplete`
 * or `onError` ends every call, except after `abort()`, after which nothing is called. An `onHeaders` or
 * `onData` that throws fails the call (InternalError in `onError`); `onComplete` and `onError` must not throw.
 */
export interface ResponseHandler {
  /** Final status and headers (1xx are skipped): names lower-case, values latin1 (one char per byte), in order. */
  onHeaders(status: number, headers: ReadonlyArray<readonly [string, string]>): void;
  /** A body chunk (the caller may keep it). Return false to pause the upstream until `resume()`. */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  /** Always an `S3Error` (table in map-upstream-error.ts), never a raw undici or socket error. */
  onError(err: S3Error): void;
}

export interface UpstreamCall {
  /** The client went away: tear the upstream request down; no handler callback follows. Idempotent. */
  abort(): void;
  /** Resumes a response paused by `onData` returning false; a no-op otherwise. */
  resume(): void;
}

/**
 * Sends `req` through the origin's pool with undici's `dispatch()` handler API (13–21 % less CPU than
 * `request()`, performance-facts.md) and streams the response to `handler` with backpressure.
 */
export function sendUpstream(
  pools: UpstreamPools,
  req: UpstreamRequest,
  handler: ResponseHandler,
): UpstreamCall {
  const call = new UpstreamCallHandler(req, handler);
  try {
    const { pool, servername } = pools.poolFor(req.origin);
    pool.dispatch(buildDispatchOptions(req, servername), call);
  } catch (err) {
    call.onError(err);
  }
  call.dispatched();
  return call;
}

function buildDispatchOptions(req: UpstreamRequest, servername: string | undefined): DispatchOptions {
  const body = req.body;
  if (body !== null && !(body instanceof UpstreamBodyStream)) {
    throw new TypeError("UpstreamRequest.body must come from createUpstreamBody()");
  }
  // undici takes a flat [name, value, …] array and writes it in order.
  const headers: string[] = [];
  let hasContentLength = false;
  for (const [name, value] of req.headers) {
    if (!hasContentLength && name.length === 14 && name.toLowerCase() === "content-length")
      hasContentLength = true;
    headers.push(name, value);
  }
  // A stream has no length of its own: without the header undici would fall back to chunked encoding.
  if (body !== null && !hasContentLength) headers.push("content-length", String(body.contentLength));
  const opts: DispatchOptions = { path: req.path, method: req.method, headers, body };
  if (servername !== undefined) opts.servername = servername;
  // undici closes the socket after every HEAD to survive servers that send a body anyway; S3 stores do not,
  // and HEAD is frequent enough that a new TLS handshake each time would hurt.
  if (req.method === "HEAD") opts.reset = false;
  return opts;
}

/** `servername` is accepted by undici's Request but missing from its DispatchOptions type. */
type DispatchOptions = Dispatcher.DispatchOptions & { servername?: string };

const ABORTED_BY_CLIENT = new Error("client aborted the request");

const PENDING = 0;
const STREAMING = 1;
const SETTLED = 2;

/**
 * undici's handler, in the callback style its Client drives natively (`onConnect`/`onHeaders`/`onData`/
 * `onComplete`/`onError`, raw header buffers in order). The newer `onResponse*` style goes through undici's
 * UnwrapHandler, which parses the headers into an object on every response: slower, and loses their order.
 */
class UpstreamCallHandler implements UpstreamCall {
  readonly #req: UpstreamRequest;
  readonly #handler: ResponseHandler;
  readonly #startMs = performance.now();
  #headersMs = -1;
  #status = 0;
  #bytesReceived = 0;
  #state = PENDING;
  #aborted = false;
  #dispatching = true;
  #deferredError: unknown = null;
  #undiciAbort: ((err?: Error) => void) | null = null;
  #undiciResume: (() => void) | null = null;

  constructor(req: UpstreamRequest, handler: ResponseHandler) {
    this.#req = req;
    this.#handler = handler;
  }

  abort(): void {
    if (this.#aborted || this.#state === SETTLED) return;
    this.#aborted = true;
    // Destroying the body fails a queued request as soon as undici picks it up; `abort` covers a started one.
    if (this.#req.body !== null) this.#req.body.destroy(ABORTED_BY_CLIENT);
    this.#undiciAbort?.(ABORTED_BY_CLIENT);
  }

  resume(): void {
    this.#undiciResume?.();
  }

  /** Ends the synchronous part of `sendUpstream`; an error raised inside it is delivered from here on. */
  dispatched(): void {
    this.#dispatching = false;
    if (this.#deferredError !== null) {
      const err = this.#deferredError;
      queueMicrotask(() => this.#fail(err));
    }
  }

  // ---- undici handler protocol ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.#aborted) abort(ABORTED_BY_CLIENT);
    else this.#undiciAbort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true;
    this.#status = status;
    this.#headersMs = performance.now() - this.#startMs;
    this.#state = STREAMING;
    this.#undiciResume = resume;
    const headers: Array<readonly [string, string]> = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      headers.push([undiciUtil.headerNameToString(rawHeaders[i]!), rawHeaders[i + 1]!.toString("latin1")]);
    }
    this.#handler.onHeaders(status, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytesReceived += chunk.length;
    if (this.#aborted) return false;
    return this.#handler.onData(chunk) !== false;
  }

  onComplete(): void {
    if (this.#aborted) return;
    this.#state = SETTLED;
    this.#publish("complete", null);
    this.#handler.onComplete();
  }

  onError(err: unknown): void {
    if (this.#dispatching) {
      // undici reports synchronous failures (bad header, closed pool) from inside dispatch().
      if (this.#deferredError === null) this.#deferredError = err;
      return;
    }
    this.#fail(err);
  }

  #fail(err: unknown): void {
    if (this.#state === SETTLED) return;
    this.#state = SETTLED;
    if (this.#aborted) {
      this.#publish("aborted", null);
      return;
    }
    const mapped = mapUpstreamError(err, this.#headersMs >= 0);
    this.#publish("error", mapped.code);
    this.#handler.onError(mapped);
  }

  #publish(outcome: UpstreamRequestEvent["outcome"], errorCode: string | null): void {
    if (!upstreamRequestChannel.hasSubscribers) return;
    const event: UpstreamRequestEvent = {
      origin: this.#req.origin,
      method: this.#req.method,
      status: this.#status,
      headersMs: this.#headersMs,
      durationMs: performance.now() - this.#startMs,
      bytesSent: this.#req.body?.bytesWritten ?? 0,
      bytesReceived: this.#bytesReceived,
      outcome,
      errorCode,
    };
    upstreamRequestChannel.publish(event);
  }
}
