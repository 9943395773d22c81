/**
 * One request through the pipeline (docs/architecture.md "The request pipeline"): parse → authenticate →
 * authorize → resolve upstream → forward/stream → respond/log. Every request runs every phase in this
 * order; nothing (method, header, query, Expect) skips authentication. Per-request state lives in this
 * class, every field set in the constructor.
 */

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { S3Error } from "@osp/errors";
import type { IncomingRequest, RequestBody, ResponseWriter } from "@osp/http";
import {
  checkKeySegments,
  classifyOperation,
  isValidId,
  type KeyMode,
  parseDeleteObjects,
  parseQuery,
  renderDeleteObjects,
  resolveTarget,
  type S3Operation,
  type S3Target,
  type UpstreamQuery,
  upstreamQueryFor,
} from "@osp/s3";
import { type AuthenticatedRequest, authenticateRequest } from "@osp/sigv4";
import { createUpstreamBody, sendUpstream, type UpstreamBody, type UpstreamCall } from "@osp/upstream";
import {
  authorizeCopySource,
  authorizeDeletedKeys,
  authorizeTarget,
  requestFacts,
  visibleBuckets,
} from "../authorization/request-checks.js";
import type { AuthzFacts } from "../authorization/rules.js";
import { answerPreflight, corsResponseHeaders, withoutCorsHeaders } from "../cors/bucket-cors.js";
import { ANONYMOUS_BODY_PLAN, ANONYMOUS_CREDENTIAL, checkAnonymousRequest } from "../identity/anonymous.js";
import type { ClientCredential } from "../identity/credential-sources.js";
import { resolveRoute } from "../routing/bucket-patterns.js";
import type { Route, UpstreamAuth } from "../routing/routes.js";
import { forwardRequestHeaders, forwardResponseHeaders, headerValue } from "../upstream/forward-headers.js";
import { BODILESS, headerPolicy, isPrivilegedHeader } from "../upstream/header-policy.js";
import { signUpstream } from "../upstream/sign-upstream.js";
import { encodeQuery } from "../upstream/upstream-query.js";
import type { GatewayCore } from "../worker/gateway-core.js";
import type { BodyPlan, PooledBodyVerifier } from "./body-plan.js";
import { planBody } from "./body-plan.js";
import { HeldErrorBody, REFUSED_CREDENTIALS } from "./held-error-body.js";

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
  /** The spool buffer this exchange holds (`takeSpool`), and whether an upstream socket was given it. */
  private spoolBuffer: Buffer | null;
  private spoolSent: boolean;
  /** The upstream answered in full with a success: the store read every byte of the request body. */
  private upstreamSucceeded: boolean;
  /** A refused first call (IAM retry) was given the spool buffer too: a socket may still read it. */
  private spoolShared = false;
  /** The bucket has `cors` rules: osp answers its CORS (cors/bucket-cors.ts), and the store's CORS headers are dropped. */
  private answersCors: boolean;
  /** CORS headers for this response: the request's Origin matched a rule of the bucket (cors/bucket-cors.ts). */
  private corsHeaders: Array<[string, string]> | null;

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
    this.spoolBuffer = null;
    this.spoolSent = false;
    this.upstreamSucceeded = false;
    this.answersCors = false;
    this.corsHeaders = null;
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
      if (this.core.cors !== null && this.corsPreflight(target)) return;
      const query = parseQuery(this.req.rawQuery);
      if (query instanceof S3Error) throw query;
      const { operation, action } = classifyOperation(this.req.method, target, query, this.req.headers);
      this.operation = operation;

      // Phase 2: authenticate.
      this.phase = "authenticate";
      const { auth, credential, signingKey } = await this.authenticate(operation);
      this.principal = credential.principal.name;

      // Phase 3: authorize (the copy source is a read of another object, so it is authorized too).
      this.phase = "authorize";
      const facts = requestFacts(this.core, this.req, operation, credential, auth);
      if (operation === "ListBuckets") {
        // The stores' own listings (routing/bucket-listings.ts), then only the buckets the caller may list.
        this.phase = "forward";
        const listing = await this.core.bucketListings.list();
        this.phase = "authorize";
        const visible = await visibleBuckets(this.core, facts, listing.buckets);
        const principal = credential.principal.name;
        const owner = listing.owner ?? { id: principal, displayName: principal };
        const xml = this.core.renderListBuckets(visible, owner);
        return this.respond(200, [["content-type", "application/xml"]], xml);
      }
      // DeleteObjects names its keys in its body: each one is authorized once the body is read.
      if (operation !== "DeleteObjects") await authorizeTarget(this.core, facts, action, target, query);
      const copySource = this.copySource(operation, query, auth);
      const copy = copySource === null ? null : await authorizeCopySource(this.core, facts, copySource);

      // Phase 4: resolve upstream, and build the upstream request from what was understood and authorized
      // (docs/security.md): the key checked, the query and headers the operation takes, nothing else.
      this.phase = "forward";
      const route = target.bucket === null ? null : resolveRoute(this.core.routes, target.bucket);
      if (route === null) {
        throw new S3Error("NoSuchBucket", undefined, { fields: [["BucketName", target.bucket ?? ""]] });
      }
      const keys = route.endpoint.keys;
      if (target.key !== null) {
        const refused = checkKeySegments(target.key, keys);
        if (refused !== null) throw refused;
      }
      const upstreamQuery = upstreamQueryFor(operation, query, keys);
      if (upstreamQuery instanceof S3Error) throw upstreamQuery;
      if (hasPrivilegedHeader(this.req.headers, upstreamQuery.hoisted)) {
        // ACLs, grants, object lock, governance bypass, website redirects: the `admin` action as well.
        this.phase = "authorize";
        await authorizeTarget(this.core, facts, "admin", target, query);
        this.phase = "forward";
      }
      let copyHeader: string | null = null;
      if (copy !== null) {
        if (copy.route.endpoint !== route.endpoint) {
          throw new S3Error(
            "InvalidRequest",
            "The copy source bucket is served by another endpoint than the target.",
          );
        }
        const refused = checkKeySegments(copy.key, keys, "x-amz-copy-source");
        if (refused !== null) throw refused;
        if (copy.versionId !== null && !isValidId(copy.versionId, keys)) {
          throw new S3Error("InvalidArgument", "Invalid version id specified", {
            fields: [["ArgumentName", "x-amz-copy-source"]],
          });
        }
        copyHeader = this.core.formatCopySource(copy.route.upstreamBucket, copy.key, copy.versionId);
      }

      // Phase 5: forward, with the endpoint's credentials or those the upstream-credentials hook gives.
      const plan =
        auth === null
          ? ANONYMOUS_BODY_PLAN
          : planBody(auth, signingKey, { minChunkBytes: this.core.minChunkBytes }, this.core.verifyPool);
      this.pooledVerifier = plan.pooledVerifier;
      if (plan.upstreamLength > 0 && BODILESS.has(operation)) {
        throw new S3Error("InvalidRequest", `${operation} takes no request body.`);
      }
      if (operation === "HeadBucket" || operation === "GetBucketLocation") {
        // Stores add what they know of the whole bucket to a probe's answer (radosgw: x-rgw-object-count,
        // x-rgw-bytes-used); only a principal who may list the whole bucket sees it unfiltered.
        this.phase = "authorize";
        this.filterProbe = !(await this.core.authorizer({
          ...facts,
          action: "list",
          operation: "ListObjectsV2",
          bucket: target.bucket,
          key: null,
          listPrefix: "",
        }));
        this.phase = "forward";
      }
      const upstreamAuth = await this.core.upstreamAuth(route, credential.principal.name);
      let body: SpooledBody | null = null;
      if (operation === "DeleteObjects") body = await this.deleteObjectsBody(plan, facts, target, keys);
      else if (plan.clientSendsBody && this.takeSpool(plan.upstreamLength, false)) {
        // Small enough to verify whole before the store sees a byte of it.
        const data = await this.spool(plan);
        body = { data, sha256Hex: plan.sha256Hex, contentMd5: null };
      }
      await this.forward(route, upstreamAuth, target, upstreamQuery, plan, copyHeader, body);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * CORS of a bucket with `cors` rules (cors/bucket-cors.ts), before authentication: answers an OPTIONS request itself
   * (true: the exchange is answered; a preflight carries no credentials, and none of it reaches the store),
   * else notes the CORS headers the response and any error get when the Origin matches a rule.
   */
  private corsPreflight(target: S3Target): boolean {
    const cors = target.bucket === null ? undefined : this.core.cors?.get(target.bucket);
    if (cors === undefined) return false;
    this.answersCors = true;
    if (this.req.method !== "OPTIONS") {
      this.corsHeaders = corsResponseHeaders(cors, this.req.method, this.req.headers);
      return false;
    }
    this.operation = "Options";
    const answer = answerPreflight(cors, this.req.headers, target.key !== null);
    if (answer instanceof S3Error) throw answer;
    this.respond(200, answer, "");
    return true;
  }

  /**
   * The copy source of a CopyObject or UploadPartCopy: the `x-amz-copy-source` header, or the parameter a
   * presigner hoisted into the query, which counts only when signed, that is in a presigned URL (SigV4 signs
   * every parameter but the signature, SigV2 every `x-amz-*` one). Elsewhere a copy source in the query is refused: a store that
   * honours it would copy from an object nobody authorized. Classification already made a request with two
   * copy sources `Unknown`.
   */
  private copySource(
    operation: string,
    query: ReadonlyArray<readonly [string, string | null]>,
    auth: AuthenticatedRequest | null,
  ): string | null {
    let hoisted: string | null | undefined;
    for (const [name, value] of query) {
      if (name.length === 17 && name.toLowerCase() === "x-amz-copy-source") hoisted = value;
    }
    if (hoisted === undefined) {
      const header = headerValue(this.req.headers, "x-amz-copy-source");
      // Only a copy takes a source; on anything else the header would be a second request nobody made.
      if (header !== null && operation !== "CopyObject" && operation !== "UploadPartCopy") {
        throw new S3Error("InvalidRequest", `${operation} takes no x-amz-copy-source.`);
      }
      return header;
    }
    if (auth?.mechanism !== "presigned" || (operation !== "CopyObject" && operation !== "UploadPartCopy")) {
      throw new S3Error(
        "InvalidRequest",
        "A copy source in the query string is accepted only in a presigned CopyObject or UploadPartCopy URL.",
      );
    }
    return hoisted ?? "";
  }

  /** `auth` is `null` for an unsigned request, allowed only when a rule names `anonymous` (identity/anonymous.ts). */
  private async authenticate(operation: string): Promise<{
    auth: AuthenticatedRequest | null;
    credential: ClientCredential;
    signingKey: Buffer;
  }> {
    const auth = authenticateRequest(this.req, this.core.authOptions);
    if (auth === null) {
      if (!this.core.anonymous) throw new S3Error("AccessDenied", "Anonymous access is not allowed.");
      checkAnonymousRequest(operation, this.body.hasBody);
      const limiter = this.core.anonymousLimiter;
      if (limiter !== null) await limiter(this.core.sourceIp(this.req.remoteAddress, this.req.headers));
      return { auth: null, credential: ANONYMOUS_CREDENTIAL, signingKey: EMPTY };
    }
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
    query: UpstreamQuery,
    plan: BodyPlan,
    copySource: string | null,
    spooled: SpooledBody | null,
    isRetry = false,
  ): Promise<void> {
    const endpoint = route.endpoint;
    const operation = this.operation as S3Operation;
    const rawQuery = encodeQuery(query.params);
    const { host, path: rawPath } = this.core.upstreamTarget(endpoint, route.upstreamBucket, target.key);
    const path = rawQuery === "" ? rawPath : `${rawPath}?${rawQuery}`;
    const headers = forwardRequestHeaders(this.req.headers, {
      dropChecksums: endpoint.checksums === "drop",
      dropCopySource: copySource !== null,
      policy: headerPolicy(operation),
      hoisted: query.hoisted,
    });
    headers.unshift(["host", host]);
    if (copySource !== null) headers.push(["x-amz-copy-source", copySource]);
    if (spooled?.contentMd5 != null) {
      headers.push(["content-type", "application/xml"], ["content-md5", spooled.contentMd5]);
    }
    // ListBuckets asks the store on its own (routing/bucket-listings.ts), so only CreateBucket carries the instance here.
    if (route.instance !== null && operation === "CreateBucket") {
      headers.push(["ibm-service-instance-id", route.instance]);
    }
    const length = spooled === null ? plan.upstreamLength : spooled.data.length;
    const hasBody = length > 0 || this.req.method === "PUT" || this.req.method === "POST";

    const bearer = await signUpstream(
      auth,
      this.req.method,
      rawPath,
      rawQuery,
      headers,
      spooled === null ? plan.sha256Hex : spooled.sha256Hex,
      this.core.signingKeys,
    );
    if (this.res.aborted || this.finished) return;

    this.upstreamBody = hasBody ? createUpstreamBody(length) : null;
    const upstreamStartedMs = performance.now();
    this.upstreamCall = sendUpstream(
      this.core.pools,
      { origin: endpoint.origin, method: this.req.method, path, headers, body: this.upstreamBody },
      {
        onHeaders: (status, upstreamHeaders) => {
          this.upstreamMs = performance.now() - upstreamStartedMs;
          // The store refused a token osp believed valid (revoked, clocks apart): drop it cluster-wide, and
          // once, when the body can be sent again (none, or spooled), ask again with a fresh token. Not when a
          // token was dropped moments ago: then the refusal is about something else (upstream/iam-tokens.ts).
          if (bearer !== null && (status === 401 || status === 403) && auth.type === "iam") {
            const dropped = auth.tokens.invalidate(bearer);
            if (dropped && !isRetry && (length === 0 || spooled !== null)) {
              // Without a request body the refusal's small body is read off and the connection goes back to
              // the pool; with one, the connection may still be sending it: it is closed, and the spool
              // buffer it may still hold is never lent again (`done`).
              if (length === 0) this.upstreamCall?.discard();
              else {
                this.upstreamCall?.abort();
                this.spoolShared = true;
              }
              this.upstreamCall = null;
              this.upstreamBody = null;
              this.forward(route, auth, target, query, plan, copySource, spooled, true).catch((err) =>
                this.fail(err),
              );
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
    const body = this.upstreamBody;
    if (body !== null) {
      if (spooled !== null) {
        this.spoolSent = true;
        body.write(spooled.data);
        body.end();
      } else if (length === 0) body.end();
      else this.streamBody(plan, body);
    }
  }

  /**
   * Takes a buffer from the worker's spool arena (spool-arena.ts) for a body of `length` bytes, within
   * `limits.spoolBytes` unless `force`; false when none is to be had. Given back when the exchange ends.
   */
  private takeSpool(length: number, force: boolean): boolean {
    if (length === 0) return true; // framing of an empty body: verified, nothing to keep
    this.spoolBuffer = this.core.spool.acquire(length, force);
    return this.spoolBuffer !== null;
  }

  /**
   * Reads the whole client body through its verifier into the spool buffer, and resolves with the verified
   * (decoded) bytes, or rejects with the verifier's verdict: the store never sees a byte of a body that fails.
   */
  private spool(plan: BodyPlan): Promise<Buffer> {
    const buffer = this.spoolBuffer ?? EMPTY;
    const length = plan.upstreamLength;
    let filled = 0;
    const keep = (data: Buffer): void => {
      // The framing already bounds the decoded length; a verifier emitting more is a bug, not a client's.
      if (filled + data.length > length)
        throw new S3Error("InternalError", undefined, { source: "internal" });
      data.copy(buffer, filled);
      filled += data.length;
    };
    const complete = (): Buffer => {
      if (filled !== length) throw new S3Error("IncompleteBody");
      return buffer.subarray(0, length);
    };
    return new Promise((resolve, reject) => this.pumpBody(plan, keep, () => resolve(complete()), reject));
  }

  /**
   * DeleteObjects: the body read whole and verified, every key checked and authorized as a delete of that
   * key, and a body osp writes itself from what it read sent upstream (no construct the store might read
   * differently survives).
   */
  private async deleteObjectsBody(
    plan: BodyPlan,
    facts: AuthzFacts,
    target: S3Target,
    keys: KeyMode,
  ): Promise<SpooledBody> {
    if (!plan.clientSendsBody || plan.upstreamLength === 0) throw new S3Error("MalformedXML");
    if (plan.upstreamLength > MAX_DELETE_OBJECTS_BODY) {
      throw new S3Error("MalformedXML", "The DeleteObjects body is larger than this gateway accepts.");
    }
    if (!this.takeSpool(plan.upstreamLength, true)) throw new S3Error("SlowDown");
    const raw = await this.spool(plan);
    if (!isUtf8(raw)) throw new S3Error("MalformedXML");
    const request = parseDeleteObjects(raw.toString("utf8"));
    if (request instanceof S3Error) throw request;
    for (const object of request.objects) {
      const refused = checkKeySegments(object.key, keys, "Key");
      if (refused !== null) throw refused;
      if (Buffer.byteLength(object.key) > this.core.addressing.maxKeyBytes)
        throw new S3Error("KeyTooLongError");
      if (object.versionId !== null && !isValidId(object.versionId, keys)) {
        throw new S3Error("InvalidArgument", "Invalid version id specified", {
          fields: [["ArgumentName", "VersionId"]],
        });
      }
      for (const [name, value] of object.conditions) {
        if (value.length > 256) {
          throw new S3Error("InvalidArgument", `Invalid ${name}.`, { fields: [["ArgumentName", name]] });
        }
      }
    }
    this.phase = "authorize";
    await authorizeDeletedKeys(
      this.core,
      facts,
      target.bucket ?? "",
      request.objects.map((o) => o.key),
    );
    this.phase = "forward";
    const data = Buffer.from(renderDeleteObjects(request));
    return {
      data,
      sha256Hex: createHash("sha256").update(data).digest("hex"),
      contentMd5: createHash("md5").update(data).digest("base64"),
    };
  }

  /**
   * Feeds the client body through the plan's verifier, inline or on a verify-pool thread: `emit` receives
   * the verified (decoded) bytes, `finished` runs once the verdict on the whole body is in (for a pooled
   * verifier, later: the held-back tail comes with it), `failed` with a failed verdict (a bad chunk signature
   * found meanwhile fails at once). Backpressure from a pooled verifier pauses the client.
   */
  private pumpBody(
    plan: BodyPlan,
    emit: (data: Buffer) => void,
    finished: () => void,
    failed: (err: unknown) => void,
  ): void {
    const pooled = plan.pooledVerifier;
    if (pooled !== null) {
      pooled.onFailure(failed);
      this.consumeBody((chunk, last) => {
        try {
          // The chunk's memory may move to the thread: nothing here reads it afterwards.
          if (!pooled.write(chunk, emit) && !last) {
            this.body.pause();
            pooled.onDrain(() => this.body.resume());
          }
          if (last) pooled.end(emit).then(finished).catch(failed);
        } catch (err) {
          failed(err);
        }
      });
      return;
    }
    const verifier = plan.verifier;
    this.consumeBody((chunk, last) => {
      try {
        if (verifier === null) emit(chunk);
        else verifier.write(chunk, emit);
        if (last) {
          verifier?.end(emit);
          finished();
        }
      } catch (err) {
        failed(err);
      }
    });
  }

  /**
   * Streams the client body through its verifier into the upstream body, with backpressure both ways. A
   * failed verdict tears the upstream request down before it completes (its last byte is held back).
   */
  private streamBody(plan: BodyPlan, upstream: UpstreamBody): void {
    const emit = (data: Buffer): void => {
      if (!upstream.write(data)) {
        this.body.pause();
        upstream.onDrain(() => this.body.resume());
      }
    };
    this.pumpBody(
      plan,
      emit,
      () => upstream.end(),
      (err) => this.fail(err),
    );
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
    const passed = this.filterProbe ? probeHeaders(upstreamHeaders) : upstreamHeaders;
    const headers = forwardResponseHeaders(this.answersCors ? withoutCorsHeaders(passed) : passed);
    if (headerValue(upstreamHeaders, "x-amz-request-id") === null)
      headers.push(["x-amz-request-id", this.id]);
    const lengthText = headerValue(upstreamHeaders, "content-length");
    // A bucket probe answers yes or no: the length of what a loose store sends along (a listing) is not passed on.
    const length =
      lengthText === null || (this.filterProbe && this.req.method === "HEAD") ? null : Number(lengthText);
    this.responseLength = length;
    if (HeldErrorBody.wanted(this.req.method, status, length)) {
      this.heldError = new HeldErrorBody(headers);
      return;
    }
    this.responseStarted = true;
    if (this.corsHeaders !== null) headers.push(...this.corsHeaders);
    this.res.writeHead(status, headers);
    if (this.req.method === "HEAD" || status === 204 || status === 304) {
      this.res.endWithoutBody(length ?? undefined);
      this.bodilessResponse = true;
    }
  }

  private responseLength: number | null = null;
  /** A bucket probe by a principal who may not list the whole bucket: its answer is filtered (`probeHeaders`). */
  private filterProbe = false;
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
    this.upstreamSucceeded = this.status >= 200 && this.status < 300;
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
      if (this.corsHeaders !== null) headers.push(...this.corsHeaders);
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
    if (this.spoolBuffer !== null) {
      // Reused only when no socket can still be writing from it.
      this.core.spool.release(
        this.spoolBuffer,
        !this.spoolSent || (this.upstreamSucceeded && !this.spoolShared),
      );
      this.spoolBuffer = null;
    }
    this.clearIdleTimer();
    if (this.requestTimer !== null) clearTimeout(this.requestTimer);
    this.core.finish(this);
  }
}

/** A request body read whole before the upstream request starts: verified, and sendable again. */
interface SpooledBody {
  readonly data: Buffer;
  readonly sha256Hex: string | null;
  /** Set when osp wrote the body itself (DeleteObjects): its Content-MD5, sent with `application/xml`. */
  readonly contentMd5: string | null;
}

const EMPTY = Buffer.alloc(0);

/** S3 takes 1000 keys of at most 1024 bytes each: about 1.1 MB of XML; twice that is refused unread. */
const MAX_DELETE_OBJECTS_BODY = 2 * 1024 * 1024;

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

/** Whether the request carries a header (or a presigner-hoisted query parameter) that needs `admin`. */
function hasPrivilegedHeader(
  headers: ReadonlyArray<readonly [string, string]>,
  hoisted: ReadonlyArray<readonly [string, string]>,
): boolean {
  for (const [name] of headers) if (isPrivilegedHeader(name)) return true;
  for (const [name] of hoisted) if (isPrivilegedHeader(name)) return true;
  return false;
}
