/**
 * One request through the pipeline (docs/architecture.md "The request pipeline"), its phases in `run` in the
 * order they run: parse → authenticate → authorize → resolve upstream → forward → relay → log. Every request
 * runs every phase in this order; nothing (method, header, query, Expect) skips authentication. The body pump
 * (body-pump.ts) carries the client's body, the response relay (response-relay.ts) the store's answer, and
 * the request record (request-record.ts) what the access log and metrics learn. Per-request state lives in
 * this class, every field set in the constructor.
 */

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { renderErrorXml, S3Error } from "@osp/errors";
import type { IncomingRequest, RequestBody, ResponseWriter } from "@osp/http";
import {
  buildUpstreamTarget,
  checkKeySegments,
  classifyOperation,
  formatCopySource,
  isValidId,
  type KeyMode,
  parseDeleteObjects,
  parseQuery,
  renderDeleteObjects,
  renderListBuckets,
  resolveTarget,
  type S3Operation,
  type S3Target,
  type UpstreamQuery,
  upstreamQueryFor,
} from "@osp/s3";
import { type AuthenticatedRequest, authenticateRequest } from "@osp/sigv4";
import { createUpstreamBody } from "@osp/upstream";
import {
  authorizeCopySource,
  authorizeDeletedKeys,
  authorizeTarget,
  mayListWholeBucket,
  requestFacts,
  visibleBuckets,
} from "../authorization/request-checks.js";
import type { AuthzFacts } from "../authorization/rules.js";
import { answerPreflight, corsResponseHeaders } from "../cors/bucket-cors.js";
import { ANONYMOUS_CREDENTIAL, checkAnonymousRequest } from "../identity/anonymous.js";
import type { ClientCredential } from "../identity/credential.js";
import { resolveRoute } from "../routing/bucket-patterns.js";
import type { Route } from "../routing/routes.js";
import { forwardRequestHeaders, headerValue } from "../upstream/forward-headers.js";
import { BODILESS, headerPolicy, isPrivilegedHeader } from "../upstream/header-policy.js";
import { signUpstream, type UpstreamAuth } from "../upstream/sign-upstream.js";
import { encodeQuery } from "../upstream/upstream-query.js";
import type { GatewayCore } from "../worker/gateway-core.js";
import { type BodyPlan, NO_BODY_PLAN, type PooledBodyVerifier, planBody } from "./body-plan.js";
import { BodyPump } from "./body-pump.js";
import { RequestRecord } from "./request-record.js";
import { type RelayHost, ResponseRelay } from "./response-relay.js";

/** The upstream request as the pipeline resolved and authorized it: what `forward` sends. */
interface ForwardOptions {
  readonly route: Route;
  /** The endpoint's credentials, or those the upstream-credentials hook gave. */
  readonly auth: UpstreamAuth;
  readonly key: string | null;
  /** The parameters and hoisted headers the operation takes (@osp/s3 `upstreamQueryFor`). */
  readonly query: UpstreamQuery;
  readonly plan: BodyPlan;
  /** `x-amz-copy-source` as the store names the source, `null` when the request copies nothing. */
  readonly copySource: string | null;
  /** The body when it was read whole (spooled, or written anew for DeleteObjects); `null` when it streams. */
  readonly body: SpooledBody | null;
}

/** A request body read whole before the upstream request starts: verified, and sendable again. */
interface SpooledBody {
  readonly data: Buffer;
  readonly sha256Hex: string | null;
  /** Set when osp wrote the body itself (DeleteObjects): its Content-MD5, sent with `application/xml`. */
  readonly contentMd5: string | null;
}

export class Exchange implements RelayHost {
  readonly core: GatewayCore;
  readonly req: IncomingRequest;
  readonly res: ResponseWriter;
  readonly record: RequestRecord;
  /** The bucket has `cors` rules: osp answers its CORS (cors/bucket-cors.ts), the store's are dropped. */
  answersCors: boolean;
  /** CORS headers for this response: the request's Origin matched a rule of the bucket. */
  corsHeaders: Array<[string, string]> | null;
  /** A bucket probe by a principal who may not list the whole bucket: its answer is filtered. */
  filterProbe: boolean;
  readonly #body: RequestBody;
  /** The client's body on its way (`null` for a request without one). */
  #pump: BodyPump | null;
  /** The store's answer on its way, once the request was forwarded. */
  #relay: ResponseRelay | null;
  /** The phase running now, so a refusal can be attributed to authentication or authorization. */
  #phase: "parse" | "authenticate" | "authorize" | "forward";
  /** The body's verifier when its checks run on a verify-pool thread; destroyed when the exchange ends. */
  #pooledVerifier: PooledBodyVerifier | null;
  #finished: boolean;
  /** `limits.requestTimeout` for the whole exchange. */
  #requestTimer: NodeJS.Timeout | null;
  /** The spool buffer this exchange holds (`#takeSpool`), and whether an upstream socket was given it. */
  #spoolBuffer: Buffer | null;
  #spoolSent: boolean;

  constructor(core: GatewayCore, req: IncomingRequest, body: RequestBody, res: ResponseWriter) {
    const options = core.options;
    this.core = core;
    this.req = req;
    this.res = res;
    this.record = new RequestRecord(core.nextRequestId(), req.method, req.remoteAddress);
    this.answersCors = false;
    this.corsHeaders = null;
    this.filterProbe = false;
    this.#body = body;
    this.#pump = null;
    this.#relay = null;
    this.#phase = "parse";
    this.#pooledVerifier = null;
    this.#finished = false;
    this.#requestTimer = null;
    this.#spoolBuffer = null;
    this.#spoolSent = false;
    res.onAborted(() => this.#onClientAbort());
    if (body.hasBody) this.#openBody();
    if (options.requestTimeoutMs > 0) {
      this.#requestTimer = setTimeout(() => this.#timedOut("request"), options.requestTimeoutMs);
    }
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Runs the pipeline; never rejects (every failure becomes an S3 error response or a closed socket). */
  async run(): Promise<void> {
    const { options, services } = this.core;
    const req = this.req;
    try {
      // Admission: over `limits.maxInFlight` the answer is 503 before any work; a request that arrived
      // before the hook modules loaded waits for them.
      if (this.core.inFlight > options.maxInFlight)
        throw new S3Error("SlowDown", undefined, { source: "internal" });
      if (this.core.pending !== null) await this.core.pending;

      // 1. Parse: the bucket and key, its route (a pure lookup; a bucket without one is refused only once the
      // request is authorized, in 4), the query, the operation and the action it needs. A bucket with CORS rules
      // has its OPTIONS answered here: a preflight carries no credentials.
      const target = resolveTarget(req.rawPath, headerValue(req.headers, "host"), options.addressing);
      if (target instanceof S3Error) throw target;
      this.record.bucket = target.bucket;
      const route = target.bucket === null ? null : resolveRoute(services.routes, target.bucket);
      if (services.cors !== null && route !== null && this.#corsPreflight(route, target)) return;
      const query = parseQuery(req.rawQuery);
      if (query instanceof S3Error) throw query;
      const { operation, action } = classifyOperation(req.method, target, query, req.headers);
      this.record.operation = operation;

      // 2. Authenticate: the signature checked against the access key's secret, then the quotas counted.
      this.#phase = "authenticate";
      const { auth, credential, signingKey } = await this.#authenticate(operation);
      this.record.principal = credential.principal.name;

      // 3. Authorize the object, bucket or listing, and the copy source of a copy (a read of another
      // object). DeleteObjects names its keys in its body: each one is authorized once the body is read.
      this.#phase = "authorize";
      const sourceIp = services.sourceIp(req.remoteAddress, req.headers);
      const facts = requestFacts(req.method, sourceIp, operation, credential, auth);
      if (operation === "ListBuckets") return await this.#listBuckets(facts, credential);
      if (operation !== "DeleteObjects")
        await authorizeTarget(services.authorizer, facts, action, target, query);
      const copySource = this.#copySource(operation, query, auth);
      const copy =
        copySource === null
          ? null
          : await authorizeCopySource(
              services.authorizer,
              services.routes,
              options.addressing,
              facts,
              copySource,
            );

      // 4. Resolve upstream: the route of the bucket, and the upstream request built from what was understood
      // and authorized (docs/security.md): the key checked, the query and headers the operation takes.
      this.#phase = "forward";
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
      if (hasPrivilegedHeader(req.headers, upstreamQuery.hoisted)) {
        // ACLs, grants, object lock, governance bypass, website redirects: the `admin` action as well.
        this.#phase = "authorize";
        await authorizeTarget(services.authorizer, facts, "admin", target, query);
        this.#phase = "forward";
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
        copyHeader = formatCopySource(copy.route.upstreamBucket, copy.key, copy.versionId);
      }

      // 5. Forward: the body's plan, the upstream credentials (the endpoint's or the hook's), the body read
      // whole when it is small enough or a DeleteObjects, then the request sent.
      this.#stillRunning(); // the answer may have gone while an authorization source was awaited
      const plan = auth === null ? NO_BODY_PLAN : planBody(auth, signingKey, options, services.verifyPool);
      this.#pooledVerifier = plan.pooledVerifier;
      if (plan.upstreamLength > 0 && BODILESS.has(operation)) {
        throw new S3Error("InvalidRequest", `${operation} takes no request body.`);
      }
      if (operation === "HeadBucket" || operation === "GetBucketLocation") {
        // Stores add what they know of the whole bucket to a probe's answer (radosgw: x-rgw-object-count,
        // x-rgw-bytes-used); only a principal who may list the whole bucket sees it unfiltered.
        this.#phase = "authorize";
        this.filterProbe = !(await mayListWholeBucket(services.authorizer, facts, target.bucket));
        this.#phase = "forward";
      }
      const upstreamAuth = await services.upstreamAuth(route, credential.principal.name);
      let body: SpooledBody | null = null;
      if (operation === "DeleteObjects") body = await this.#deleteObjectsBody(plan, facts, target, keys);
      else if (plan.clientSendsBody && this.#takeSpool(plan.upstreamLength, false)) {
        // Small enough to verify whole before the store sees a byte of it.
        const data = await this.#spool(plan);
        body = { data, sha256Hex: plan.sha256Hex, contentMd5: null };
      }
      await this.#forward({
        route,
        auth: upstreamAuth,
        key: target.key,
        query: upstreamQuery,
        plan,
        copySource: copyHeader,
        body,
      });
      // 6. Relay: the store's answer streams to the client through the relay (response-relay.ts).
      // 7. Log: `done` hands the request record to the core once, however the exchange ends.
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * CORS of a bucket with `cors` rules (cors/bucket-cors.ts), before authentication: answers an OPTIONS
   * request itself (true: the exchange is answered; a preflight carries no credentials, and none of it reaches
   * the store), else notes the CORS headers the response and any error get when the Origin matches a rule.
   */
  #corsPreflight(route: Route, target: S3Target): boolean {
    const cors = this.core.services.cors?.get(route.key);
    if (cors === undefined) return false;
    this.answersCors = true;
    if (this.req.method !== "OPTIONS") {
      this.corsHeaders = corsResponseHeaders(cors, this.req.method, this.req.headers);
      return false;
    }
    this.record.operation = "Options";
    const answer = answerPreflight(cors, this.req.headers, target.key !== null);
    if (answer instanceof S3Error) throw answer;
    this.respond(200, answer, "");
    return true;
  }

  /** `auth` is `null` for an unsigned request, let in only when a rule names `anonymous` (identity/). */
  async #authenticate(operation: string): Promise<{
    auth: AuthenticatedRequest | null;
    credential: ClientCredential;
    signingKey: Buffer;
  }> {
    const { options, services } = this.core;
    const auth = authenticateRequest(this.req, options.auth);
    if (auth === null) {
      if (!options.anonymous) throw new S3Error("AccessDenied", "Anonymous access is not allowed.");
      checkAnonymousRequest(operation, this.#body.hasBody);
      const limiter = services.anonymousLimiter;
      if (limiter !== null) await limiter(services.sourceIp(this.req.remoteAddress, this.req.headers));
      return { auth: null, credential: ANONYMOUS_CREDENTIAL, signingKey: EMPTY };
    }
    if (auth instanceof S3Error) throw auth;
    const credential = await services.credentials.lookup(auth.accessKeyId);
    if (credential === null) {
      throw new S3Error("InvalidAccessKeyId", undefined, { fields: [["AWSAccessKeyId", auth.accessKeyId]] });
    }
    // Inline (auto's choice for signatures) this is a value: no extra await on the hot path.
    const verified = services.verifyPool.verifyRequest(
      auth,
      credential.secretAccessKey,
      services.signingKeys,
      options.verify,
    );
    const { failure, signingKey } = verified instanceof Promise ? await verified : verified;
    if (failure !== null) throw failure;
    // Quotas count only verified requests, so a forged signature cannot use up someone's URL.
    if (services.limiter !== null) await services.limiter(auth);
    return { auth, credential, signingKey };
  }

  /**
   * ListBuckets never reaches one store: the stores' own listings (routing/bucket-listings.ts), then only the
   * buckets the caller may list.
   */
  async #listBuckets(facts: AuthzFacts, credential: ClientCredential): Promise<void> {
    const services = this.core.services;
    this.#phase = "forward";
    const listing = await services.bucketListings.list();
    this.#phase = "authorize";
    const visible = await visibleBuckets(services.authorizer, facts, listing.buckets);
    const principal = credential.principal.name;
    const owner = listing.owner ?? { id: principal, displayName: principal };
    this.respond(200, [["content-type", "application/xml"]], renderListBuckets(visible, owner));
  }

  /**
   * The copy source of a CopyObject or UploadPartCopy: the `x-amz-copy-source` header, or the parameter a
   * presigner hoisted into the query, which counts only when signed, that is in a presigned URL (SigV4 signs
   * every parameter but the signature, SigV2 every `x-amz-*` one). Elsewhere a copy source in the query is
   * refused: a store that honours it would copy from an object nobody authorized. Classification already made
   * a request with two copy sources `Unknown`.
   */
  #copySource(
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

  /**
   * Sends the upstream request and hands its answer to the relay. When the store refuses an IAM token osp
   * believed valid, the token is dropped and the request sent once more with a fresh one, if its body can be
   * sent again (none, or read whole): the loop below runs at most twice.
   */
  async #forward(o: ForwardOptions): Promise<void> {
    const services = this.core.services;
    const method = this.req.method;
    const endpoint = o.route.endpoint;
    const rawQuery = encodeQuery(o.query.params);
    const { host, path: rawPath } = buildUpstreamTarget(endpoint.target, o.route.upstreamBucket, o.key, "");
    const path = rawQuery === "" ? rawPath : `${rawPath}?${rawQuery}`;
    const length = o.body === null ? o.plan.upstreamLength : o.body.data.length;
    const hasBody = length > 0 || method === "PUT" || method === "POST";
    const sha256Hex = o.body === null ? o.plan.sha256Hex : o.body.sha256Hex;
    const relay = new ResponseRelay(this, services.log);
    this.#relay = relay;
    let retry = o.auth.type === "iam" && (length === 0 || o.body !== null);
    for (;;) {
      const headers = forwardRequestHeaders(this.req.headers, {
        dropChecksums: endpoint.checksums === "drop",
        dropCopySource: o.copySource !== null,
        policy: headerPolicy(this.record.operation as S3Operation),
        hoisted: o.query.hoisted,
      });
      headers.unshift(["host", host]);
      if (o.copySource !== null) headers.push(["x-amz-copy-source", o.copySource]);
      if (o.body?.contentMd5 != null) {
        headers.push(["content-type", "application/xml"], ["content-md5", o.body.contentMd5]);
      }
      // ListBuckets asks the stores on its own (routing/bucket-listings.ts): only CreateBucket carries the
      // instance here.
      if (o.route.instance !== null && this.record.operation === "CreateBucket") {
        headers.push(["ibm-service-instance-id", o.route.instance]);
      }
      const bearer = await signUpstream(
        o.auth,
        method,
        rawPath,
        rawQuery,
        headers,
        sha256Hex,
        services.signingKeys,
      );
      if (this.res.aborted || this.#finished) return;

      const upstreamBody = hasBody ? createUpstreamBody(length) : null;
      const request = { origin: endpoint.origin, method, path, headers, body: upstreamBody };
      const refused = relay.send(services.pools, request, o.auth, bearer, retry);
      if (upstreamBody !== null) {
        if (o.body !== null) {
          this.#spoolSent = true;
          upstreamBody.write(o.body.data);
          upstreamBody.end();
        } else if (length === 0) upstreamBody.end();
        else this.#openBody().stream(o.plan, upstreamBody, (err) => this.fail(err));
      }
      if (refused === null || !(await refused)) return;
      retry = false;
    }
  }

  /**
   * Takes a buffer from the worker's spool arena (spool-arena.ts) for a body of `length` bytes, within
   * `limits.spoolBytes` unless `force`; false when none is to be had. Given back when the exchange ends.
   */
  #takeSpool(length: number, force: boolean): boolean {
    this.#stillRunning(); // `done` has released what this exchange held; a buffer taken now would be lost
    if (length === 0) return true; // framing of an empty body: verified, nothing to keep
    this.#spoolBuffer = this.core.services.spool.acquire(length, force);
    return this.#spoolBuffer !== null;
  }

  /**
   * Stops the pipeline once the exchange finished (answered, timed out, or aborted by the client) while it
   * awaited a source: what it would take next (a verifier, a spool buffer) would outlive `done`. `fail` ignores
   * the error, the exchange being finished.
   */
  #stillRunning(): void {
    if (this.#finished) throw new S3Error("InternalError", "The exchange has ended.", { source: "internal" });
  }

  /** The whole client body, verified, in the spool buffer (body-pump.ts). */
  #spool(plan: BodyPlan): Promise<Buffer> {
    return this.#openBody().spool(plan, this.#spoolBuffer ?? EMPTY);
  }

  /**
   * The body pump. A request the HTTP front saw no body on gets one now, which delivers an empty body at once
   * (the body plan expects one only when the headers announce it, and the front checked those).
   */
  #openBody(): BodyPump {
    this.#pump ??= new BodyPump(this.#body, this.record, this.core.options.idleTimeoutMs, () =>
      this.#timedOut("idle"),
    );
    return this.#pump;
  }

  /**
   * DeleteObjects: the body read whole and verified, every key checked and authorized as a delete of that
   * key, and a body osp writes itself from what it read sent upstream (no construct the store might read
   * differently survives).
   */
  async #deleteObjectsBody(
    plan: BodyPlan,
    facts: AuthzFacts,
    target: S3Target,
    keys: KeyMode,
  ): Promise<SpooledBody> {
    if (!plan.clientSendsBody || plan.upstreamLength === 0) throw new S3Error("MalformedXML");
    if (plan.upstreamLength > MAX_DELETE_OBJECTS_BODY) {
      throw new S3Error("MalformedXML", "The DeleteObjects body is larger than this gateway accepts.");
    }
    if (!this.#takeSpool(plan.upstreamLength, true)) throw new S3Error("SlowDown");
    const raw = await this.#spool(plan);
    if (!isUtf8(raw)) throw new S3Error("MalformedXML");
    const request = parseDeleteObjects(raw.toString("utf8"));
    if (request instanceof S3Error) throw request;
    for (const object of request.objects) {
      const refused = checkKeySegments(object.key, keys, "Key");
      if (refused !== null) throw refused;
      if (Buffer.byteLength(object.key) > this.core.options.addressing.maxKeyBytes)
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
    this.#phase = "authorize";
    await authorizeDeletedKeys(
      this.core.services.authorizer,
      facts,
      target.bucket ?? "",
      request.objects.map((o) => o.key),
    );
    this.#phase = "forward";
    const data = Buffer.from(renderDeleteObjects(request));
    return {
      data,
      sha256Hex: createHash("sha256").update(data).digest("hex"),
      contentMd5: createHash("md5").update(data).digest("base64"),
    };
  }

  #onClientAbort(): void {
    this.#relay?.abort();
    if (!this.#finished) {
      this.record.error ??= "ClientAborted";
      this.done();
    }
  }

  /** Answers a gateway error as S3 XML, or closes the connection if a response already started. */
  fail(err: unknown): void {
    if (this.#finished) return;
    const error =
      err instanceof S3Error
        ? err
        : new S3Error("InternalError", undefined, { source: "internal", cause: err });
    if (!(err instanceof S3Error))
      this.core.services.log.error({ err, requestId: this.record.requestId }, "internal error");
    this.record.error = error.code;
    if (this.#phase === "authenticate" || this.#phase === "authorize") this.record.refusedBy = this.#phase;
    this.#relay?.abort();
    if (this.#relay?.started === true) {
      if (!this.res.aborted) this.res.destroy();
      this.done();
      return;
    }
    const headers: Array<[string, string]> = [["content-type", "application/xml"]];
    for (const [k, v] of error.headers) headers.push([k, v]);
    const body =
      this.req.method === "HEAD" ? null : renderErrorXml(error, this.record.requestId, this.req.rawPath);
    this.respond(error.status, headers, body);
  }

  /** Answers with osp's own response (an error, a preflight, ListBuckets, a held 403 passed through). */
  respond(status: number, headers: Array<[string, string]>, body: string | Buffer | null): void {
    this.record.status = status;
    if (!this.res.aborted) {
      if (headerValue(headers, "x-amz-request-id") === null)
        headers.push(["x-amz-request-id", this.record.requestId]);
      if (this.corsHeaders !== null) headers.push(...this.corsHeaders);
      this.res.writeHead(status, headers);
      if (body === null) this.res.endWithoutBody();
      else {
        this.record.bytesOut += typeof body === "string" ? Buffer.byteLength(body) : body.length;
        this.res.end(body);
      }
    }
    // The client may still be sending a body we refused: discard it.
    this.#pump?.discard();
    this.done();
  }

  /** A limit ran out: S3's RequestTimeout (400, retried by clients), or a closed connection mid-response. */
  #timedOut(which: "request" | "idle"): void {
    if (this.#finished) return;
    const message =
      which === "idle"
        ? "Your socket connection to the server was not read from or written to within the timeout period."
        : "The request took longer than this gateway allows.";
    this.fail(new S3Error("RequestTimeout", message));
  }

  /** Ends the exchange, whichever way (answered, failed, aborted, timed out): exactly once. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    // Every way out frees a pooled verifier; a no-op once it settled.
    this.#pooledVerifier?.destroy();
    if (this.#spoolBuffer !== null) {
      // Reused only when no socket can still be writing from it.
      const relay = this.#relay;
      const reusable = !this.#spoolSent || (relay?.succeeded === true && !relay.bodyAbandoned);
      this.core.services.spool.release(this.#spoolBuffer, reusable);
      this.#spoolBuffer = null;
    }
    this.#pump?.stop();
    if (this.#requestTimer !== null) clearTimeout(this.#requestTimer);
    this.core.finish(this.record);
  }
}

const EMPTY = Buffer.alloc(0);

/** S3 takes 1000 keys of at most 1024 bytes each: about 1.1 MB of XML; twice that is refused unread. */
const MAX_DELETE_OBJECTS_BODY = 2 * 1024 * 1024;

/** Whether the request carries a header (or a presigner-hoisted query parameter) that needs `admin`. */
function hasPrivilegedHeader(
  headers: ReadonlyArray<readonly [string, string]>,
  hoisted: ReadonlyArray<readonly [string, string]>,
): boolean {
  for (const [name] of headers) if (isPrivilegedHeader(name)) return true;
  for (const [name] of hoisted) if (isPrivilegedHeader(name)) return true;
  return false;
}
