/**
 * The store's response on its way to the client (docs/architecture.md "Respond and log"): status and headers
 * with hop-by-hop headers and framing replaced (upstream/forward-headers.ts), the body with backpressure
 * both ways. A 403 that says the store refused osp's own credentials is held and replaced by an error of
 * osp's own (held-error-body.ts); a failure after the head went out closes the connection, so a truncated
 * body never looks complete. One relay per forwarded request; it is the upstream call's handler.
 */
import { S3Error } from "@osp/errors";
import type { ResponseWriter } from "@osp/http";
import type { Logger } from "@osp/log";
import {
  type ResponseHandler,
  sendUpstream,
  type UpstreamBody,
  type UpstreamCall,
  type UpstreamPools,
  type UpstreamRequest,
} from "@osp/upstream";
import { withoutCorsHeaders } from "../cors/bucket-cors.js";
import { forwardResponseHeaders, headerValue } from "../upstream/forward-headers.js";
import type { IamTokens } from "../upstream/iam-tokens.js";
import type { UpstreamAuth } from "../upstream/sign-upstream.js";
import { HeldErrorBody, REFUSED_CREDENTIALS } from "./held-error-body.js";
import type { RequestRecord } from "./request-record.js";

/** What the relay needs of the exchange it answers for (exchange.ts). */
export interface RelayHost {
  readonly record: RequestRecord;
  readonly res: ResponseWriter;
  /** The exchange has ended (answered, failed, aborted, timed out): nothing more is written. */
  readonly finished: boolean;
  /** The bucket has `cors` rules: the store's CORS headers are dropped (cors/bucket-cors.ts). */
  readonly answersCors: boolean;
  /** CORS headers for this response, `null` for none. */
  readonly corsHeaders: ReadonlyArray<[string, string]> | null;
  /** A bucket probe by a principal who may not list the whole bucket: its answer is filtered. */
  readonly filterProbe: boolean;
  /** Answers with osp's own response (a held 403 that passes through). */
  respond(status: number, headers: Array<[string, string]>, body: string | Buffer | null): void;
  /** Answers with an S3 error, or closes the connection once a response started. */
  fail(err: unknown): void;
  /** Ends the exchange: called once the response is complete or the connection closed. */
  done(): void;
}

export class ResponseRelay implements ResponseHandler {
  readonly #host: RelayHost;
  readonly #log: Logger;
  #call: UpstreamCall | null;
  #body: UpstreamBody | null;
  #sentAtMs: number;
  /** The IAM token this attempt was sent with and its source (null for HMAC), to drop it when refused. */
  #bearer: string | null;
  #tokens: IamTokens | null;
  /** Settles the caller's wait for a retry (`send` with `retry`): true when the store refused the token. */
  #retry: ((refused: boolean) => void) | null;
  /** Content-Length of the client's response, `null` when the store sent none (or a probe's is dropped). */
  #length: number | null;
  #bodiless: boolean;
  #held: HeldErrorBody | null;
  /** The client's response head went out: a failure now closes the connection. */
  started: boolean;
  /** The store answered in full with a success: it read every byte of the request body. */
  succeeded: boolean;
  /** A refused attempt was closed while its socket may still have been reading the request body. */
  bodyAbandoned: boolean;

  constructor(host: RelayHost, log: Logger) {
    this.#host = host;
    this.#log = log;
    this.#call = null;
    this.#body = null;
    this.#sentAtMs = 0;
    this.#bearer = null;
    this.#tokens = null;
    this.#retry = null;
    this.#length = null;
    this.#bodiless = false;
    this.#held = null;
    this.started = false;
    this.succeeded = false;
    this.bodyAbandoned = false;
  }

  /**
   * Sends one attempt of the upstream request, signed with `auth` (`bearer`: the IAM token it carries). With
   * `retry`, returns a promise that resolves true when the store refused the token and it was dropped
   * (iam-tokens.ts): this attempt is then given up and the caller sends the request again with a fresh token;
   * false when the response goes to the client. Without `retry`, `null`: nothing to wait for.
   */
  send(
    pools: UpstreamPools,
    request: UpstreamRequest,
    auth: UpstreamAuth,
    bearer: string | null,
    retry: boolean,
  ): Promise<boolean> | null {
    this.#bearer = bearer;
    this.#tokens = auth.type === "iam" ? auth.tokens : null;
    this.#body = request.body;
    const refused = retry
      ? new Promise<boolean>((resolve) => {
          this.#retry = resolve;
        })
      : null;
    this.#sentAtMs = performance.now();
    this.#call = sendUpstream(pools, request, this);
    return refused;
  }

  /**
   * Tears the upstream request down before it completes, so an upload stores nothing. The call goes first: once
   * aborted its handler hears nothing more, so the body's destruction does not come back as an upstream error.
   */
  abort(): void {
    this.#call?.abort();
    this.#body?.destroy(new Error("request abandoned"));
    this.#settleRetry(false);
  }

  onHeaders(status: number, upstreamHeaders: ReadonlyArray<readonly [string, string]>): void {
    const host = this.#host;
    host.record.upstreamMs = performance.now() - this.#sentAtMs;
    // The store refused a token osp believed valid (revoked, clocks apart): drop it cluster-wide, and when the
    // caller may send again (a body that can be resent), give this attempt up. Not when a token was dropped
    // moments ago: then the refusal is about something else (iam-tokens.ts).
    if (this.#bearer !== null && this.#tokens !== null && (status === 401 || status === 403)) {
      const dropped = this.#tokens.invalidate(this.#bearer);
      if (dropped && this.#retry !== null) {
        // Without a request body the refusal's small body is read off and the connection goes back to the
        // pool; with one, the connection may still be sending it: it is closed, and the spool buffer it may
        // still hold is never lent again (exchange.ts `done`).
        if (this.#body === null || this.#body.contentLength === 0) this.#call?.discard();
        else {
          this.#call?.abort();
          this.bodyAbandoned = true;
        }
        this.#call = null;
        this.#body = null;
        this.#settleRetry(true);
        return;
      }
    }
    this.#settleRetry(false);
    if (host.finished || host.res.aborted) return;
    const record = host.record;
    record.status = status;
    const passed = host.filterProbe ? probeHeaders(upstreamHeaders) : upstreamHeaders;
    const headers = forwardResponseHeaders(host.answersCors ? withoutCorsHeaders(passed) : passed);
    if (headerValue(upstreamHeaders, "x-amz-request-id") === null)
      headers.push(["x-amz-request-id", record.requestId]);
    const lengthText = headerValue(upstreamHeaders, "content-length");
    // A bucket probe answers yes or no: the length of what a loose store sends along (a listing) is not passed on.
    const length =
      lengthText === null || (host.filterProbe && record.method === "HEAD") ? null : Number(lengthText);
    this.#length = length;
    if (HeldErrorBody.wanted(record.method, status, length)) {
      this.#held = new HeldErrorBody(headers);
      return;
    }
    this.started = true;
    if (host.corsHeaders !== null) headers.push(...host.corsHeaders);
    host.res.writeHead(status, headers);
    if (record.method === "HEAD" || status === 204 || status === 304) {
      host.res.endWithoutBody(length ?? undefined);
      this.#bodiless = true;
    }
  }

  onData(chunk: Buffer): boolean {
    const host = this.#host;
    if (host.finished || host.res.aborted || this.#bodiless) return true;
    if (this.#held !== null) {
      this.#held.push(chunk);
      return true;
    }
    host.record.bytesOut += chunk.length;
    const ok = host.res.write(chunk, this.#length);
    if (!ok) host.res.onWritable(() => this.#call?.resume());
    return ok;
  }

  onComplete(): void {
    const host = this.#host;
    if (host.finished) return;
    const held = this.#held;
    if (held !== null) {
      const code = held.refusedCredentials();
      if (code === null) host.respond(403, held.headers, held.body);
      else {
        this.#log.error(
          { requestId: host.record.requestId, upstreamCode: code },
          "the upstream store refused osp's credentials",
        );
        host.fail(new S3Error("InternalError", REFUSED_CREDENTIALS, { source: "upstream" }));
      }
      return;
    }
    if (!this.#bodiless && !host.res.aborted) host.res.finish();
    this.succeeded = host.record.status >= 200 && host.record.status < 300;
    host.done();
  }

  onError(err: S3Error): void {
    this.#settleRetry(false);
    const host = this.#host;
    if (host.finished) return;
    this.#body?.destroy(err);
    if (this.started) {
      // Never present a truncated body as complete: close the connection.
      host.record.error = err.code;
      if (!host.res.aborted) host.res.destroy();
      host.done();
    } else host.fail(err);
  }

  #settleRetry(refused: boolean): void {
    const settle = this.#retry;
    if (settle === null) return;
    this.#retry = null;
    settle(refused);
  }
}

/** The headers of a bucket probe's answer that say nothing about the bucket's contents. */
const PROBE_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "server",
  "x-amz-request-id",
  "x-amz-id-2",
  "x-amz-bucket-region",
  "x-amz-access-point-alias",
  "x-amz-bucket-location-type",
  "x-amz-bucket-location-name",
]);

function probeHeaders(
  headers: ReadonlyArray<readonly [string, string]>,
): ReadonlyArray<readonly [string, string]> {
  return headers.filter(([name]) => PROBE_HEADERS.has(name));
}
