/**
 * What every request of one worker shares, resolved once at startup so the hot path only branches
 * (fastify's rule): compiled routes and rules, the credential source, the signing-key cache, the
 * upstream pools, the shared cache, options, the logger and the per-worker counters. Hook modules load
 * asynchronously: `ready` settles when they did (startWorker waits for it before listening, and a request
 * that arrives earlier waits too); a hook that cannot load rejects it.
 */

import { type Cache, createCache } from "@osp/cache";
import { type Config, resolveWorkerCount } from "@osp/config";
import { renderErrorXml, type S3Error } from "@osp/errors";
import { type Logger, writeAccessLine } from "@osp/log";
import {
  type BucketOwner,
  buildUpstreamTarget,
  formatCopySource,
  type ListedBucket,
  renderListBuckets,
} from "@osp/s3";
import { type AuthOptions, SigningKeyCache } from "@osp/sigv4";
import { DEFAULT_ORIGIN_OPTIONS, type OriginOptions, UpstreamPools } from "@osp/upstream";
import { createVerifyPool, type VerifyPool } from "@osp/verify";
import { createAuthorizer } from "../authorization/authorizer.js";
import type { Authorizer } from "../authorization/rules.js";
import { type CorsPolicies, compileCors } from "../cors/bucket-cors.js";
import { type GatewayRequestEvent, gatewayRequestChannel } from "../gateway-channels.js";
import { anonymousAllowed } from "../identity/anonymous.js";
import {
  type CredentialSource,
  createConfigCredentials,
  createCredentialSource,
} from "../identity/credential-sources.js";
import {
  type AnonymousLimiter,
  createAnonymousLimiter,
  createRequestLimiter,
  type RequestLimiter,
} from "../identity/request-limits.js";
import { createSourceIpResolver, type SourceIpResolver } from "../identity/source-ip.js";
import type { Exchange } from "../pipeline/exchange.js";
import { SpoolArena } from "../pipeline/spool-arena.js";
import { BucketListings } from "../routing/bucket-listings.js";
import { compileRoutes, type Endpoint, type Routes } from "../routing/routes.js";
import {
  createIamTokenRegistry,
  createUpstreamAuthResolver,
  type UpstreamAuthResolver,
} from "../upstream/upstream-credentials.js";

export interface GatewayDeps {
  readonly log: Logger;
  /** Replaces the config's credentials (tests, and the shared sources). */
  readonly credentials?: CredentialSource;
  /** Replaces the configured authorization sources. */
  readonly authorizer?: Authorizer;
  /**
   * The worker's two-tier cache (L1 + Redis), shared with whoever created it; when absent the core makes
   * an embedded in-memory one and closes it with itself.
   */
  readonly cache?: Cache;
}

export class GatewayCore {
  readonly config: Config;
  readonly log: Logger;
  readonly pools: UpstreamPools;
  readonly routes: Routes;
  credentials: CredentialSource;
  authorizer: Authorizer;
  upstreamAuth: UpstreamAuthResolver;
  readonly cache: Cache;
  readonly ownsCache: boolean;
  readonly limiter: RequestLimiter;
  /** Whether an allow rule names `anonymous` (identity/anonymous.ts); unsigned requests are refused outright if not. */
  readonly anonymous: boolean;
  /** `rateLimit` for unsigned requests, per source IP. */
  readonly anonymousLimiter: AnonymousLimiter;
  /** The buckets whose CORS osp answers (cors/bucket-cors.ts); `null` when none has `cors` rules. */
  readonly cors: CorsPolicies;
  readonly sourceIp: SourceIpResolver;
  /** Settles when hook modules are loaded; `null` once they are (the hot path checks only that). */
  pending: Promise<void> | null;
  readonly ready: Promise<void>;
  readonly signingKeys: SigningKeyCache;
  /** Where signature checks and signed-body hashing run (verify.mode / verify.threads). */
  readonly verifyPool: VerifyPool;
  /** The stores' own bucket listings, cached for `cache.listBucketsTtl` (ListBuckets). */
  readonly bucketListings: BucketListings;
  readonly addressing: { virtualHostDomains: readonly string[]; plusIsSpace: boolean; maxKeyBytes: number };
  readonly verifyOptions: { plusInPathIsSpace: boolean; exposeCanonicalRequest: boolean };
  readonly maxInFlight: number;
  readonly minChunkBytes: number;
  /** `limits.requestTimeout` (0 = none) and `limits.idleTimeout`, in ms. */
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Buffers for bodies verified whole before forwarding (`limits.spoolBytes`, `limits.spoolTotalBytes`). */
  readonly spool: SpoolArena;
  inFlight: number;
  completed: number;
  private readonly idPrefix: string;
  private idCounter: number;
  /** Authentication options, one object for every request (`authenticateRequest` reads the clock itself). */
  readonly authOptions: Omit<AuthOptions, "nowMs">;

  constructor(config: Config, deps: GatewayDeps) {
    this.config = config;
    this.log = deps.log;
    // Each endpoint's origin gets that endpoint's `pool`; other origins (webhook, IAM) the same defaults.
    this.pools = new UpstreamPools(DEFAULT_ORIGIN_OPTIONS, perOriginOptions(config));
    this.ownsCache = deps.cache === undefined;
    this.cache = deps.cache ?? createWorkerCache(config, deps.log);
    const iamTokensFor = createIamTokenRegistry(this.cache, config, this.pools);
    this.routes = compileRoutes(config, iamTokensFor);
    this.limiter = createRequestLimiter(config, this.cache);
    this.anonymous = anonymousAllowed(config);
    this.anonymousLimiter = this.anonymous ? createAnonymousLimiter(config, this.cache) : null;
    this.cors = compileCors(config);
    this.sourceIp = createSourceIpResolver(config.trustedProxies);
    // Until the hooks load, requests wait on `pending`; these placeholders are never called before that.
    this.credentials = deps.credentials ?? createConfigCredentials(config);
    this.authorizer = deps.authorizer ?? (() => false);
    this.upstreamAuth = (route) => route.endpoint.auth;
    this.ready = this.loadSources(config, deps, iamTokensFor);
    this.pending = this.ready.then(() => {
      this.pending = null;
    });
    this.pending.catch(() => {});
    this.signingKeys = new SigningKeyCache();
    this.bucketListings = new BucketListings({
      routes: this.routes,
      pools: this.pools,
      signingKeys: this.signingKeys,
      log: this.log,
      ttlMs: config.cache.listBucketsTtl,
    });
    this.verifyPool = createVerifyPool({
      mode: config.verify.mode,
      threads: config.verify.threads,
      // The cluster's workers share the CPUs: threads 0 gives this worker its share of the spare ones.
      processes: resolveWorkerCount(config),
    });
    this.addressing = {
      virtualHostDomains: config.addressing.virtualHostDomains,
      plusIsSpace: config.addressing.plusInPathIsSpace,
      maxKeyBytes: config.limits.maxKeyBytes,
    };
    this.verifyOptions = {
      plusInPathIsSpace: config.addressing.plusInPathIsSpace,
      exposeCanonicalRequest: config.auth.exposeCanonicalRequest,
    };
    this.authOptions = {
      maxSkewMs: config.auth.maxSkew,
      plusInPathIsSpace: config.addressing.plusInPathIsSpace,
      allowedRegions: config.auth.regions.length === 0 ? null : new Set(config.auth.regions),
      service: "s3",
      maxPresignExpiresSeconds: Math.floor(config.auth.maxPresignExpiry / 1000),
      sigV2: config.auth.sigV2,
      virtualHostDomains: config.addressing.virtualHostDomains,
    };
    this.maxInFlight = config.limits.maxInFlight;
    this.requestTimeoutMs = config.limits.requestTimeout;
    this.idleTimeoutMs = config.limits.idleTimeout;
    this.spool = new SpoolArena(config.limits.spoolBytes, config.limits.spoolTotalBytes);
    this.minChunkBytes = config.auth.minChunkBytes;
    this.inFlight = 0;
    this.completed = 0;
    // Request ids: a per-process random prefix and a counter, upper-case hex like S3's.
    this.idPrefix = Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .toUpperCase()
      .padStart(8, "0");
    this.idCounter = 0;
  }

  private async loadSources(
    config: Config,
    deps: GatewayDeps,
    iamTokensFor: Parameters<typeof createUpstreamAuthResolver>[2],
  ): Promise<void> {
    const [credentials, authorizer, upstreamAuth] = await Promise.all([
      deps.credentials ?? createCredentialSource(config, this.cache, this.log),
      deps.authorizer ?? createAuthorizer(config, this.cache, this.pools, this.log),
      createUpstreamAuthResolver(config, this.cache, iamTokensFor, this.log),
      // A worker that starts while Redis is still connecting would answer its first requests without the
      // shared state (503 for stored credentials): wait up to `redis.connectTimeout`, then go on degraded.
      this.cache.waitUntilUp(config.redis?.connectTimeout ?? 0),
    ]);
    this.credentials = credentials;
    this.authorizer = authorizer;
    this.upstreamAuth = upstreamAuth;
  }

  nextRequestId(): string {
    this.idCounter = (this.idCounter + 1) >>> 0;
    return this.idPrefix + this.idCounter.toString(16).toUpperCase().padStart(8, "0");
  }

  upstreamTarget(
    endpoint: Endpoint,
    upstreamBucket: string,
    key: string | null,
  ): { host: string; path: string } {
    return buildUpstreamTarget(
      { addressing: endpoint.addressing, host: endpoint.host, tls: endpoint.https },
      upstreamBucket,
      key,
      "",
    );
  }

  formatCopySource(bucket: string, key: string, versionId: string | null): string {
    return formatCopySource(bucket, key, versionId);
  }

  renderListBuckets(buckets: readonly ListedBucket[], owner: BucketOwner): string {
    return renderListBuckets(buckets, owner);
  }

  renderError(error: S3Error, requestId: string, resource: string): string {
    return renderErrorXml(error, requestId, resource);
  }

  /** Called exactly once per request: the access log line and the counters. */
  finish(exchange: Exchange): void {
    this.inFlight--;
    this.completed++;
    if (gatewayRequestChannel.hasSubscribers) {
      const event: GatewayRequestEvent = {
        operation: exchange.operation,
        method: exchange.req.method,
        status: exchange.status,
        bucket: exchange.bucket,
        errorCode: exchange.errorCode,
        refusedBy: exchange.refusedBy,
        bytesIn: exchange.bytesIn,
        bytesOut: exchange.bytesOut,
        durationSeconds: (performance.now() - exchange.startedAtMs) / 1000,
        upstreamSeconds: exchange.upstreamMs / 1000,
      };
      gatewayRequestChannel.publish(event);
    }
    if (!this.config.logging.accessLog) return;
    // Its fields hold no secret, so it skips the logger's redaction pass.
    writeAccessLine(this.log, {
      requestId: exchange.id,
      method: exchange.req.method,
      operation: exchange.operation,
      bucket: exchange.bucket,
      principal: exchange.principal,
      status: exchange.status,
      error: exchange.errorCode,
      bytesIn: exchange.bytesIn,
      bytesOut: exchange.bytesOut,
      durationMs: Math.round((performance.now() - exchange.startedAtMs) * 1000) / 1000,
      upstreamMs: Math.round(exchange.upstreamMs * 1000) / 1000,
      remote: exchange.req.remoteAddress,
    });
  }

  async close(): Promise<void> {
    await this.verifyPool.close();
    await this.pools.close();
    if (this.ownsCache) await this.cache.close();
  }
}

/** The two-tier cache the config asks for: Redis-backed with a `redis` section, else embedded memory. */
export function createWorkerCache(config: Config, log: Logger): Cache {
  const redis = config.redis;
  return createCache({
    l1MaxEntries: config.cache.l1MaxEntries,
    log,
    redis:
      redis === undefined
        ? undefined
        : {
            url: redis.url,
            keyPrefix: redis.keyPrefix,
            connectTimeoutMs: redis.connectTimeout,
            commandTimeoutMs: redis.commandTimeout,
          },
  });
}

/** Each endpoint's origin with its `pool` settings (the config filled in every default). */
function perOriginOptions(config: Config): Map<string, OriginOptions> {
  const map = new Map<string, OriginOptions>();
  for (const e of Object.values(config.endpoints)) {
    map.set(new URL(e.url).origin, {
      connections: e.pool.connections,
      connectTimeoutMs: e.pool.connectTimeout,
      headersTimeoutMs: e.pool.headersTimeout,
      bodyTimeoutMs: e.pool.bodyTimeout,
      keepAliveTimeoutMs: e.pool.keepAliveTimeout,
      queueTimeoutMs: e.pool.queueTimeout,
      pausedTimeoutMs: e.pool.pausedTimeout,
      caFile: e.caFile ?? null,
    });
  }
  return map;
}
