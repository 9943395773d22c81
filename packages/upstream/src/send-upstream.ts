import type { S3Error } from "@osp/errors";
import type { OriginPool } from "./h1/origin-pool.js";
import { buildRequestHead } from "./h1/request-head.js";
import {
  type ConnectionCall,
  type UpstreamConnection,
  UpstreamTimeoutError,
} from "./h1/upstream-connection.js";
import { mapUpstreamError } from "./map-upstream-error.js";
import { type BodyOwner, StreamedUpstreamBody, type UpstreamBody } from "./upstream-body.js";
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
   * Exactly the headers to send, in order, `host` included. Wire order: `host`, `connection: keep-alive`,
   * then these in order, then `content-length` (taken from `body.contentLength`; a `content-length` here must
   * agree). Hop-by-hop headers (`transfer-encoding`, `connection`, `keep-alive`, `upgrade`, `expect`, `te`,
   * `trailer`) are refused: strip them before calling. Names are tokens, values latin1 without controls.
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
  /**
   * A body chunk: a view of the connection's read buffer, valid until `onData` returns true or, after it
   * returned false, until the caller calls `resume()`; copy it to keep it longer. Returning false pauses the
   * upstream after the bytes of the current socket read (at most 64 KiB more) have been delivered.
   */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  /** Always an `S3Error` (table in map-upstream-error.ts), never a raw socket or parser error. */
  onError(err: S3Error): void;
}

export interface UpstreamCall {
  /** The client went away: tear the upstream request down; no handler callback follows. Idempotent. */
  abort(): void;
  /** Resumes a response paused by `onData` returning false; a no-op otherwise. */
  resume(): void;
  /**
   * The caller has no use for the rest of the response (a refused IAM token: it sends the request again with a
   * fresh one). No handler callback follows, as after `abort()`, but the connection is kept: the rest of the body
   * is read and dropped, and the connection goes back to the pool; a body longer than `maxBodyBytes` (default
   * 64 KiB), or any failure, closes it instead. Before the response headers, it is `abort()`. Idempotent.
   */
  discard(maxBodyBytes?: number): void;
}

/**
 * Sends `req` through the origin's pool (h1/: keep-alive HTTP/1.1 connections reading into reused buffers)
 * and streams the response to `handler` with backpressure.
 */
export function sendUpstream(
  pools: UpstreamPools,
  req: UpstreamRequest,
  handler: ResponseHandler,
): UpstreamCall {
  const call = new UpstreamCallHandler(req, handler);
  try {
    const body = req.body;
    if (body !== null && !(body instanceof StreamedUpstreamBody)) {
      throw new TypeError("UpstreamRequest.body must come from createUpstreamBody()");
    }
    call.head = buildRequestHead(req.method, req.path, req.headers, body === null ? -1 : body.contentLength);
    const pool = pools.poolFor(req.origin);
    call.pool = pool;
    body?.bind(call);
    if (!call.settled) pool.dispatch(call);
  } catch (err) {
    call.onFailure(err, false);
  }
  call.dispatched();
  return call;
}

const ABORTED_BY_CLIENT = new Error("client aborted the request");

/** Requests that may be sent twice: after a reused connection turned out to be closed, nothing was done. */
const IDEMPOTENT = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);

const PENDING = 0;
const STREAMING = 1;
const SETTLED = 2;
/** `discard()`: the body is read and dropped so that the connection can be reused; the handler hears nothing. */
const DISCARDING = 3;

/** Error bodies (S3's XML, IAM's JSON) are a few hundred bytes; past this, a new connection is cheaper. */
const DEFAULT_DISCARD_BYTES = 64 * 1024;

/** One request's life: queued in the pool, on a connection, settled. */
class UpstreamCallHandler implements UpstreamCall, ConnectionCall, BodyOwner {
  readonly #req: UpstreamRequest;
  readonly #handler: ResponseHandler;
  readonly body: StreamedUpstreamBody | null;
  readonly bodiless: boolean;
  head = "";
  pool: OriginPool | null = null;
  queuedAtMs = 0;
  readonly #startMs = performance.now();
  #conn: UpstreamConnection | null = null;
  #headersMs = -1;
  #status = 0;
  #bytesReceived = 0;
  #state = PENDING;
  #aborted = false;
  #retried = false;
  #dispatching = true;
  /** Body bytes `discard()` still reads before it gives the connection up instead. */
  #discardBudget = 0;
  #deferredError: unknown = null;

  constructor(req: UpstreamRequest, handler: ResponseHandler) {
    this.#req = req;
    this.#handler = handler;
    this.body = req.body instanceof StreamedUpstreamBody ? req.body : null;
    this.bodiless = req.method === "HEAD";
  }

  get settled(): boolean {
    return this.#state === SETTLED || this.#deferredError !== null;
  }

  abort(): void {
    if (this.#aborted || this.#state === SETTLED) return;
    this.#aborted = true;
    this.#state = SETTLED;
    if (this.#conn !== null) this.#conn.abortCall(this);
    else this.pool?.unqueue(this);
    this.body?.destroy(ABORTED_BY_CLIENT);
    this.#publish("aborted", null);
  }

  resume(): void {
    if (this.#state === STREAMING) this.#conn?.resume(this);
  }

  discard(maxBodyBytes = DEFAULT_DISCARD_BYTES): void {
    if (this.#state === DISCARDING || this.#state === SETTLED) return;
    if (this.#state !== STREAMING || this.#conn === null) {
      this.abort();
      return;
    }
    this.#state = DISCARDING;
    this.#discardBudget = maxBodyBytes;
    this.#conn.resume(this); // a paused response must flow to be drained
  }

  /** Ends the synchronous part of `sendUpstream`; an error raised inside it is delivered from here on. */
  dispatched(): void {
    this.#dispatching = false;
    if (this.#deferredError !== null) {
      const err = this.#deferredError;
      queueMicrotask(() => this.#fail(err));
    }
  }

  // ---- BodyOwner ----

  bodyFailed(err: Error): void {
    if (this.#state === SETTLED) return;
    if (this.#conn !== null) this.#conn.abortCall(this);
    else this.pool?.unqueue(this);
    this.onFailure(err, false);
  }

  // ---- ConnectionCall ----

  attached(conn: UpstreamConnection): void {
    this.#conn = conn;
  }

  onHead(status: number, headers: Array<readonly [string, string]>): void {
    this.#status = status;
    this.#headersMs = performance.now() - this.#startMs;
    this.#state = STREAMING;
    this.#handler.onHeaders(status, headers);
  }

  onBody(chunk: Buffer): boolean {
    this.#bytesReceived += chunk.length;
    if (this.#state === DISCARDING) {
      this.#discardBudget -= chunk.length;
      if (this.#discardBudget < 0) {
        // Too long to drain: the connection goes (abortCall closes it; the call hears nothing back).
        this.#state = SETTLED;
        this.#conn?.abortCall(this);
        this.#conn = null;
        this.#publish("aborted", null);
      }
      return true;
    }
    if (this.#state !== STREAMING) return false;
    return this.#handler.onData(chunk) !== false;
  }

  onComplete(): void {
    if (this.#state === SETTLED) return;
    const discarded = this.#state === DISCARDING;
    this.#state = SETTLED;
    this.#conn = null;
    this.#publish("complete", null);
    if (!discarded) this.#handler.onComplete();
  }

  onFailure(err: unknown, retryable: boolean): void {
    if (this.#state === SETTLED) return;
    if (this.#state === DISCARDING) {
      this.#state = SETTLED;
      this.#conn = null;
      this.#publish("aborted", null);
      return;
    }
    this.#conn = null;
    if (
      retryable &&
      !this.#retried &&
      this.body === null &&
      IDEMPOTENT.has(this.#req.method) &&
      this.pool !== null
    ) {
      // The origin closed a kept-alive connection as the request went out: nothing reached it; once more.
      this.#retried = true;
      this.pool.retry(this);
      return;
    }
    if (this.#dispatching) {
      // Synchronous failures (invalid request, closed pool) are reported once sendUpstream has returned.
      if (this.#deferredError === null) this.#deferredError = err;
      return;
    }
    this.#fail(err);
  }

  #fail(err: unknown): void {
    if (this.#state === SETTLED) return;
    this.#state = SETTLED;
    const mapped = mapUpstreamError(err, this.#headersMs >= 0);
    this.#publish("error", mapped.code, timeoutOf(err));
    this.#handler.onError(mapped);
  }

  #publish(
    outcome: UpstreamRequestEvent["outcome"],
    errorCode: string | null,
    timeout: UpstreamRequestEvent["timeout"] = null,
  ): void {
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
      timeout,
    };
    upstreamRequestChannel.publish(event);
  }
}

const TIMEOUTS: ReadonlyMap<string, NonNullable<UpstreamRequestEvent["timeout"]>> = new Map([
  ["OSP_CONNECT_TIMEOUT", "connect"],
  ["OSP_HEADERS_TIMEOUT", "headers"],
  ["OSP_BODY_TIMEOUT", "body"],
  ["OSP_SEND_TIMEOUT", "send"],
  ["OSP_QUEUE_TIMEOUT", "queue"],
  ["OSP_PAUSED_TIMEOUT", "paused"],
]);

/** Which deadline `err` is, for the request event (metrics count queue and paused timeouts). */
function timeoutOf(err: unknown): UpstreamRequestEvent["timeout"] {
  if (!(err instanceof UpstreamTimeoutError)) return null;
  return TIMEOUTS.get(err.code) ?? null;
}
