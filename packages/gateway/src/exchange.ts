/**
 * One request through the pipeline (DESIGN.md "The request pipeline"): parse → authenticate →
 * authorize → resolve upstream → forward/stream → respond/log. Every request runs every phase in this
 * order; nothing (method, header, query, Expect) skips authentication. Per-request state lives in this
 * class, every field set in the constructor.
 */
import { S3Error } from "@osp/errors";
import type { IncomingRequest, RequestBody, ResponseWriter } from "@osp/http";
import { classifyOperation, parseQuery, resolveTarget, type S3Target } from "@osp/s3";
import { type AuthenticatedRequest, authenticateRequest } from "@osp/sigv4";
import { createUpstreamBody, sendUpstream, type UpstreamBody, type UpstreamCall } from "@osp/upstream";
import { authorizeCopySource, authorizeTarget, requestFacts, visibleBuckets } from "./authorize-request.js";
import type { BodyPlan, PooledBodyVerifier } from "./body-plan.js";
import { planBody } from "./body-plan.js";
import { forwardRequestHeaders, forwardResponseHeaders, headerValue } from "./forward-headers.js";
import type { GatewayCore } from "./gateway-core.js";
import { HeldErrorBody, REFUSED_CREDENTIALS } from "./held-error-body.js";
import type { ClientCredential } from "./identity.js";
import { upstreamQuery } from "./query.js";
import type { Route, UpstreamAuth } from "./routes.js";
import { signUpstream } from "./upstream-auth.js";

export class Exchange {
  readonly id: string;
  readonly startedAtMs: number;
  readonly req: IncomingRequest;
  readonly res: ResponseWriter;
  readonly body: RequestBody;
  readonly core: GatewayCore;
  operation: string;
  bucket: string | null;
  principal: string | null;
  status: number;
  bytesIn: number;
  bytesOut: number;
  upstreamMs: number;
  errorCode: string | null;
  /** The phase running now, so a refusal can be attributed to authentication or authorization. */
  phase: "parse" | "authenticate" | "authorize" | "forward";
  /** Which phase refused the request, `null` if none did. */
  refusedBy: "authenticate" | "authorize" | null;
  /** Client body chunks that arrived before the pipeline was ready for them (the body is paused). */
  private pending: Buffer[] | null;
  private pendingLast: boolean;
  private bodyConsumer: ((chunk: Buffer, last: boolean) => void) | null;
  private upstreamCall: UpstreamCall | null;
  private upstreamBody: UpstreamBody | null;
  /** The body's verifier when its checks run on a verify-pool thread; destroyed when the exchange ends. */
  private pooledVerifier: PooledBodyVerifier | null;
  private responseStarted: boolean;
  private finished: boolean;
  /** `limits.requestTimeout` for the whole exchange; `limits.idleTimeout` for silence on the client body. */
  private requestTimer: NodeJS.Timeout | null;
  private idleTimer: NodeJS.Timeout | null;

  constructor(core: GatewayCore, req: IncomingRequest, body: RequestBody, res: ResponseWriter) {
    this.id = core.nextRequestId();
    this.startedAtMs = performance.now();
    this.core = core;
    this.req = req;
    this.res = res;
    this.body = body;
    this.operation = "Unknown";
    this.bucket = null;
    this.principal = null;
    this.status = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.upstreamMs = 0;
    this.errorCode = null;
    this.phase = "parse";
    this.refusedBy = null;
    this.pending = null;
    this.pendingLast = false;
    this.bodyConsumer = null;
    this.upstreamCall = null;
    this.upstreamBody = null;
    this.pooledVerifier = null;
    this.responseStarted = false;
    this.finished = false;
    this.requestTimer = null;
    this.idleTimer = null;
    res.onAborted(() => this.onClientAbort());
    if (body.hasBody) {
      body.onData((chunk, last) => this.onClientData(chunk, last));
      this.armIdleTimer();
    }
    if (core.requestTimeoutMs > 0) {
      this.requestTimer = setTimeout(() => this.timedOut("request"), core.requestTimeoutMs);
    }
  }

  /** Runs the pipeline; never throws (every failure becomes an S3 error response or a closed socket). */
  async run(): Promise<void> {
    try {
      if (this.core.inFlight > this.core.maxInFlight)
        throw new S3Error("SlowDown", undefined, { source: "internal" });
      if (this.core.pending !== null) await this.core.pending;
      // Phase 1: parse.
      const target = resolveTarget(
        this.req.rawPath,
        headerValue(this.req.headers, "host"),
        this.core.addressing,
      );
      if (target instanceof S3Error) throw target;
      this.bucket = target.bucket;
      const query = parseQuery(this.req.rawQuery);
      if (query instanceof S3Error) throw query;
      const { operation, action } = classifyOperation(this.req.method, target, query, this.req.headers);
      this.operation = operation;

      // Phase 2: authenticate.
      this.phase = "authenticate";
      const { auth, credential, signingKey } = await this.authenticate();
      this.principal = credential.principal.name;

      // Phase 3: authorize (the copy source is a read of another object, so it is authorized too).
      this.phase = "authorize";
      const facts = requestFacts(this.core, this.req, operation, credential, auth);
      if (operation === "ListBuckets") {
        const visible = await visibleBuckets(this.core, facts);
        const xml = this.core.renderListBuckets(visible, credential.principal.name);
        return this.respond(200, [["content-type", "application/xml"]], xml);
      }
      await authorizeTarget(this.core, facts, action, target, query);
      const copySource = headerValue(this.req.headers, "x-amz-copy-source");
      const copy = copySource === null ? null : await authorizeCopySource(this.core, facts, copySource);

      // Phase 4: resolve upstream.
      this.phase = "forward";
      const route = target.bucket === null ? null : this.core.routes.byBucket.get(target.bucket);
      if (route === null || route === undefined) {
        throw new S3Error("NoSuchBucket", undefined, { fields: [["BucketName", target.bucket ?? ""]] });
      }
      let copyHeader: string | null = null;
      if (copy !== null) {
        if (copy.route.endpoint !== route.endpoint) {
          throw new S3Error(
            "InvalidRequest",
            "The copy source bucket is served by another endpoint than the target.",
          );
        }
        copyHeader = this.core.formatCopySource(copy.route.upstreamBucket, copy.key, copy.versionId);
      }

      // Phase 5: forward, with the endpoint's credentials or those the upstream-credentials hook gives.
      const plan = planBody(
        auth,
        signingKey,
        { minChunkBytes: this.core.minChunkBytes },
        this.core.verifyPool,
      );
      this.pooledVerifier = plan.pooledVerifier;
      const upstreamAuth = await this.core.upstreamAuth(route, credential.principal.name);
      await this.forward(route, upstreamAuth, target, query, plan, copyHeader);
    } catch (err) {
      this.fail(err);
    }
  }

  private async authenticate(): Promise<{
    auth: AuthenticatedRequest;
    credential: ClientCredential;
    signingKey: Buffer;
  }> {
    const auth = authenticateRequest(this.req, this.core.authOptions);
    if (auth === null) throw new S3Error("AccessDenied", "Anonymous access is not allowed.");
    if (auth instanceof S3Error) throw auth;
    const credential = await this.core.credentials.lookup(auth.accessKeyId);
    if (credential === null) {
      throw new S3Error("InvalidAccessKeyId", undefined, { fields: [["AWSAccessKeyId", auth.accessKeyId]] });
    }
    // Inline (auto's choice for signatures) this is a value: no extra await on the hot path.
    const verified = this.core.verifyPool.verifyRequest(
      auth,
      credential.secretAccessKey,
      this.core.signingKeys,
      this.core.verifyOptions,
    );
    const { failure, signingKey } = verified instanceof Promise ? await verified : verified;
    if (failure !== null) throw failure;
    // Quotas count only verified requests, so a forged signature cannot use up someone's URL.
    if (this.core.limiter !== null) await this.core.limiter(auth);
    return { auth, credential, signingKey };
  }

  private async forward(
    route: Route,
    auth: UpstreamAuth,
    target: S3Target,
    query: ReadonlyArray<readonly [string, string | null]>,
    plan: BodyPlan,
    copySource: string | null,
    isRetry = false,
  ): Promise<void> {
    const endpoint = route.endpoint;
    const rawQuery = upstreamQuery(query);
    const { host, path: rawPath } = this.core.upstreamTarget(endpoint, route.upstreamBucket, target.key);
    const path = rawQuery === "" ? rawPath : `${rawPath}?${rawQuery}`;
    const headers = forwardRequestHeaders(this.req.headers, {
      dropChecksums: endpoint.checksums === "drop",
      dropCopySource: copySource !== null,
    });
    headers.unshift(["host", host]);
    if (copySource !== null) headers.push(["x-amz-copy-source", copySource]);
    // ListBuckets is answered by osp itself, so only CreateBucket carries the instance upstream.
    if (route.instance !== null && this.operation === "CreateBucket") {
      headers.push(["ibm-service-instance-id", route.instance]);
    }
    const hasBody = plan.upstreamLength > 0 || this.req.method === "PUT" || this.req.method === "POST";

    // An empty upstream body can't hold anything back: verify the whole client body first.
    if (plan.upstreamLength === 0 && plan.clientSendsBody && !isRetry) await this.drainAndVerify(plan);

    const bearer = await signUpstream(
      auth,
      this.req.method,
      rawPath,
      rawQuery,
      headers,
      plan.sha256Hex,
      this.core.signingKeys,
    );
    if (this.res.aborted || this.finished) return;

    this.upstreamBody = hasBody ? createUpstreamBody(plan.upstreamLength) : null;
    const upstreamStartedMs = performance.now();
    this.upstreamCall = sendUpstream(
      this.core.pools,
      { origin: endpoint.origin, method: this.req.method, path, headers, body: this.upstreamBody },
      {
        onHeaders: (status, upstreamHeaders) => {
          this.upstreamMs = performance.now() - upstreamStartedMs;
          // The store refused a token osp believed valid (revoked, clocks apart): drop it cluster-wide, and
          // once, when nothing of the body was sent (nothing to replay), ask again with a fresh token. Not
          // when a token was dropped moments ago: then the refusal is about something else (iam-tokens.ts).
          if (bearer !== null && (status === 401 || status === 403) && auth.type === "iam") {
            const dropped = auth.tokens.invalidate(bearer);
            if (dropped && !isRetry && plan.upstreamLength === 0) {
              this.upstreamCall?.abort();
              this.upstreamCall = null;
              this.upstreamBody = null;
              this.forward(route, auth, target, query, plan, copySource, true).catch((err) => this.fail(err));
              return;
            }
          }
          this.startResponse(status, upstreamHeaders);
        },
        onData: (chunk) => this.writeResponseChunk(chunk),
        onComplete: () => this.completeResponse(),
        onError: (err) => this.upstreamFailed(err),
      },
    );
    if (this.upstreamBody !== null) {
      if (plan.upstreamLength === 0) this.upstreamBody.end();
      else if (plan.pooledVerifier !== null) this.streamPooledBody(plan.pooledVerifier, this.upstreamBody);
      else this.streamBody(plan, this.upstreamBody);
    }
  }

  /** Feeds the client body through the verifier into the upstream body, with backpressure both ways. */
  private streamBody(plan: BodyPlan, upstream: UpstreamBody): void {
    const verifier = plan.verifier;
    const emit = (data: Buffer): void => {
      if (!upstream.write(data)) {
        this.body.pause();
        upstream.onDrain(() => this.body.resume());
      }
    };
    this.consumeBody((chunk, last) => {
      try {
        if (verifier === null) emit(chunk);
        else verifier.write(chunk, emit);
        if (last) {
          verifier?.end(emit);
          upstream.end();
        }
      } catch (err) {
        // A failed verdict: tear the upstream request down before it completes, so nothing is stored.
        this.fail(err);
      }
    });
  }

  /**
   * `streamBody` for a body verified on a verify-pool thread: verdicts come back later, so the upstream body
   * ends only once `end()` resolved (the held-back tail comes with it), and a failure found meanwhile (a bad
   * chunk signature) tears the upstream down at once.
   */
  private streamPooledBody(verifier: PooledBodyVerifier, upstream: UpstreamBody): void {
    const failed = (err: unknown): void => this.fail(err);
    const emit = (data: Buffer): void => {
      if (!upstream.write(data)) {
        this.body.pause();
        upstream.onDrain(() => this.body.resume());
      }
    };
    verifier.onFailure(failed);
    this.consumeBody((chunk, last) => {
      try {
        // The chunk's memory may move to the thread: nothing here reads it afterwards.
        if (!verifier.write(chunk, emit) && !last) {
          this.body.pause();
          verifier.onDrain(() => this.body.resume());
        }
        if (last)
          verifier
            .end(emit)
            .then(() => upstream.end())
            .catch(failed);
      } catch (err) {
        failed(err);
      }
    });
  }

  /** Reads and verifies a body whose decoded form is empty (aws-chunked framing of an empty object). */
  private drainAndVerify(plan: BodyPlan): Promise<void> {
    return new Promise((resolve, reject) => {
      const noop = (): void => {};
      this.consumeBody((chunk, last) => {
        try {
          plan.verifier?.write(chunk, noop);
          if (last) {
            plan.verifier?.end(noop);
            resolve();
          }
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private onClientData(chunk: Buffer, last: boolean): void {
    this.bytesIn += chunk.length;
    if (last) this.clearIdleTimer();
    else this.armIdleTimer();
    if (this.bodyConsumer !== null) {
      this.bodyConsumer(chunk, last);
      return;
    }
    // The pipeline is still authenticating: keep the bytes and stop the flow.
    if (this.pending === null) this.pending = [];
    this.pending.push(chunk);
    this.pendingLast = last;
    this.body.pause();
  }

  private consumeBody(consumer: (chunk: Buffer, last: boolean) => void): void {
    this.bodyConsumer = consumer;
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) {
      for (let i = 0; i < pending.length; i++)
        consumer(pending[i]!, this.pendingLast && i === pending.length - 1);
    }
    if (!this.pendingLast) this.body.resume();
  }

  private startResponse(status: number, upstreamHeaders: ReadonlyArray<readonly [string, string]>): void {
    if (this.finished || this.res.aborted) return;
    this.status = status;
    const headers = forwardResponseHeaders(upstreamHeaders);
    if (headerValue(upstreamHeaders, "x-amz-request-id") === null)
      headers.push(["x-amz-request-id", this.id]);
    const lengthText = headerValue(upstreamHeaders, "content-length");
    const length = lengthText === null ? null : Number(lengthText);
    this.responseLength = length;
    if (HeldErrorBody.wanted(this.req.method, status, length)) {
      this.heldError = new HeldErrorBody(headers);
      return;
    }
    this.responseStarted = true;
    this.res.writeHead(status, headers);
    if (this.req.method === "HEAD" || status === 204 || status === 304) {
      this.res.endWithoutBody(length ?? undefined);
      this.bodilessResponse = true;
    }
  }

  private responseLength: number | null = null;
  private bodilessResponse = false;
  private heldError: HeldErrorBody | null = null;

  private writeResponseChunk(chunk: Buffer): boolean {
    if (this.finished || this.res.aborted || this.bodilessResponse) return true;
    if (this.heldError !== null) {
      this.heldError.push(chunk);
      return true;
    }
    this.bytesOut += chunk.length;
    const ok = this.res.write(chunk, this.responseLength);
    if (!ok) this.res.onWritable(() => this.upstreamCall?.resume());
    return ok;
  }

  private completeResponse(): void {
    if (this.finished) return;
    const held = this.heldError;
    if (held !== null) {
      const code = held.refusedCredentials();
      if (code === null) this.respond(403, held.headers, held.body);
      else {
        this.core.log.error(
          { requestId: this.id, upstreamCode: code },
          "the upstream store refused osp's credentials",
        );
        this.fail(new S3Error("InternalError", REFUSED_CREDENTIALS, { source: "upstream" }));
      }
      return;
    }
    if (!this.bodilessResponse && !this.res.aborted) this.res.finish();
    this.done();
  }

  private upstreamFailed(err: S3Error): void {
    if (this.finished) return;
    this.upstreamBody?.destroy(err);
    if (this.responseStarted) {
      // Never present a truncated body as complete: close the connection.
      this.errorCode = err.code;
      if (!this.res.aborted) this.res.destroy();
      this.done();
    } else this.fail(err);
  }

  private onClientAbort(): void {
    this.abortUpstream();
    if (!this.finished) {
      this.errorCode ??= "ClientAborted";
      this.done();
    }
  }

  /** Answers a gateway error as S3 XML, or closes the connection if a response already started. */
  private fail(err: unknown): void {
    if (this.finished) return;
    const error =
      err instanceof S3Error
        ? err
        : new S3Error("InternalError", undefined, { source: "internal", cause: err });
    if (!(err instanceof S3Error)) this.core.log.error({ err, requestId: this.id }, "internal error");
    this.errorCode = error.code;
    if (this.phase === "authenticate" || this.phase === "authorize") this.refusedBy = this.phase;
    this.abortUpstream();
    if (this.responseStarted) {
      if (!this.res.aborted) this.res.destroy();
      this.done();
      return;
    }
    const headers: Array<[string, string]> = [["content-type", "application/xml"]];
    for (const [k, v] of error.headers) headers.push([k, v]);
    const resource = this.req.rawPath;
    const body = this.req.method === "HEAD" ? null : this.core.renderError(error, this.id, resource);
    this.respond(error.status, headers, body);
  }

  /**
   * Tears the upstream request down before it completes, so an upload stores nothing. The call goes first: once
   * aborted its handler hears nothing more, so the body's destruction does not come back as an upstream error.
   */
  private abortUpstream(): void {
    this.upstreamCall?.abort();
    this.upstreamBody?.destroy(new Error("request abandoned"));
  }

  private respond(status: number, headers: Array<[string, string]>, body: string | Buffer | null): void {
    this.status = status;
    if (!this.res.aborted) {
      if (headerValue(headers, "x-amz-request-id") === null) headers.push(["x-amz-request-id", this.id]);
      this.res.writeHead(status, headers);
      if (body === null) this.res.endWithoutBody();
      else {
        this.bytesOut += typeof body === "string" ? Buffer.byteLength(body) : body.length;
        this.res.end(body);
      }
    }
    // The client may still be sending a body we refused: discard it.
    this.bodyConsumer = () => {};
    this.pending = null;
    if (this.body.hasBody) this.body.resume();
    this.done();
  }

  private armIdleTimer(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.timedOut("idle"), this.core.idleTimeoutMs);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** A limit ran out: S3's RequestTimeout (400, retried by clients), or a closed connection mid-response. */
  private timedOut(which: "request" | "idle"): void {
    if (this.finished) return;
    const message =
      which === "idle"
        ? "Your socket connection to the server was not read from or written to within the timeout period."
        : "The request took longer than this gateway allows.";
    this.fail(new S3Error("RequestTimeout", message));
  }

  private done(): void {
    if (this.finished) return;
    this.finished = true;
    // Every way out (answered, failed, aborted, timed out) frees a pooled verifier; no-op once it settled.
    this.pooledVerifier?.destroy();
    this.clearIdleTimer();
    if (this.requestTimer !== null) clearTimeout(this.requestTimer);
    this.core.finish(this);
  }
}
