/**
 * What every request of one gateway core uses and that holds state or does work: the compiled routes and
 * CORS rules, the credential source, the authorizer, the upstream-credentials resolver, the upstream pools,
 * the shared cache, the quotas, the signing-key cache, the verify pool, the stores' bucket listings and the
 * spool arena. Built once per config (gateway-core.ts); the options they read are gateway-options.ts's.
 */
import { type Cache, createCache } from "@osp/cache";
import type { Config } from "@osp/config";
import type { Logger } from "@osp/log";
import { SigningKeyCache } from "@osp/sigv4";
import { UpstreamPools } from "@osp/upstream";
import { createVerifyPool, type VerifyPool } from "@osp/verify";
import { createAuthorizer } from "../authorization/authorizer.js";
import type { Authorizer } from "../authorization/rules.js";
import { dropStalePolicyEntries, gatewayNamespaces } from "../cache-namespaces.js";
import { type CorsPolicies, compileCors } from "../cors/bucket-cors.js";
import type { CredentialSource } from "../identity/credential.js";
import { createConfigCredentials, createCredentialSource } from "../identity/credential-sources.js";
import {
  type AnonymousLimiter,
  createAnonymousLimiter,
  createRequestLimiter,
  type RequestLimiter,
} from "../identity/request-limits.js";
import { createSourceIpResolver, type SourceIpResolver } from "../identity/source-ip.js";
import { SpoolArena } from "../pipeline/spool-arena.js";
import { BucketListings } from "../routing/bucket-listings.js";
import { compileRoutes, type Routes } from "../routing/routes.js";
import { createIamTokenRegistry, type IamTokensFor } from "../upstream/iam-tokens.js";
import { createUpstreamAuthResolver, type UpstreamAuthResolver } from "../upstream/upstream-credentials.js";
import type { GatewayOptions } from "./gateway-options.js";

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

export class GatewayServices {
  readonly log: Logger;
  readonly cache: Cache;
  readonly pools: UpstreamPools;
  readonly routes: Routes;
  /** The buckets whose CORS osp answers (cors/bucket-cors.ts); `null` when none has `cors` rules. */
  readonly cors: CorsPolicies;
  readonly sourceIp: SourceIpResolver;
  /** `presign.maxUses` and `rateLimit` per access key; `null` when neither is on. */
  readonly limiter: RequestLimiter;
  /** `rateLimit` for unsigned requests, per source IP; `null` when off or no rule names `anonymous`. */
  readonly anonymousLimiter: AnonymousLimiter;
  readonly signingKeys: SigningKeyCache;
  /** Where signature checks and signed-body hashing run (verify.mode / verify.threads). */
  readonly verifyPool: VerifyPool;
  /** The stores' own bucket listings, cached for `cache.listBucketsTtl` (ListBuckets). */
  readonly bucketListings: BucketListings;
  /** Buffers for bodies verified whole before forwarding (`limits.spoolBytes`, `limits.spoolTotalBytes`). */
  readonly spool: SpoolArena;
  /** Set by `load`, once the hook modules are in; until then requests wait (gateway-core.ts `pending`). */
  credentials: CredentialSource;
  authorizer: Authorizer;
  upstreamAuth: UpstreamAuthResolver;
  readonly #ownsCache: boolean;
  readonly #iamTokensFor: IamTokensFor;

  constructor(config: Config, options: GatewayOptions, deps: GatewayDeps) {
    this.log = deps.log;
    this.pools = new UpstreamPools(options.upstreamDefaults, options.upstreamOrigins);
    this.#ownsCache = deps.cache === undefined;
    this.cache = deps.cache ?? createWorkerCache(config, deps.log);
    // Before any source reads the cache: entries made under another policy go first.
    dropStalePolicyEntries(this.cache, config, deps.log);
    this.#iamTokensFor = createIamTokenRegistry(
      gatewayNamespaces(this.cache, config).iam,
      this.pools,
      deps.log,
    );
    this.routes = compileRoutes(config, this.#iamTokensFor);
    this.cors = compileCors(config);
    this.sourceIp = createSourceIpResolver(config.trustedProxies);
    this.limiter = createRequestLimiter(config, this.cache);
    this.anonymousLimiter = options.anonymous ? createAnonymousLimiter(config, this.cache) : null;
    this.signingKeys = new SigningKeyCache();
    this.verifyPool = createVerifyPool(options.verifyPool);
    this.bucketListings = new BucketListings({
      routes: this.routes,
      pools: this.pools,
      signingKeys: this.signingKeys,
      log: deps.log,
      ttlMs: options.listBucketsTtlMs,
    });
    this.spool = new SpoolArena(options.spoolBytes, options.spoolTotalBytes);
    // Placeholders until `load` settles; no request reaches them before it did.
    this.credentials = deps.credentials ?? createConfigCredentials(config);
    this.authorizer = deps.authorizer ?? (() => false);
    this.upstreamAuth = (route) => route.endpoint.auth;
  }

  /**
   * Loads the hook modules and builds the credential source, the authorizer and the upstream-credentials
   * resolver; rejects when a hook cannot be loaded. Waits up to `redisWaitMs` for Redis: a worker that started
   * while Redis was still connecting would answer its first requests without the shared state (503 for stored
   * credentials), so it waits that long and then goes on degraded.
   */
  async load(config: Config, options: GatewayOptions, deps: GatewayDeps): Promise<void> {
    const [credentials, authorizer, upstreamAuth] = await Promise.all([
      deps.credentials ?? createCredentialSource(config, this.cache, this.log),
      deps.authorizer ?? createAuthorizer(config, this.cache, this.pools, this.log),
      createUpstreamAuthResolver(config, this.cache, this.#iamTokensFor, this.log),
      this.cache.waitUntilUp(options.redisWaitMs),
    ]);
    this.credentials = credentials;
    this.authorizer = authorizer;
    this.upstreamAuth = upstreamAuth;
  }

  async close(): Promise<void> {
    await this.verifyPool.close();
    await this.pools.close();
    if (this.#ownsCache) await this.cache.close();
  }
}

/** The two-tier cache the config asks for: Redis-backed with a `redis` section, else embedded memory. */
export function createWorkerCache(config: Config, log: Logger): Cache {
  const redis = config.redis;
  return createCache({
    l1MaxEntries: config.cache.l1MaxEntries,
    l1MaxBytes: config.cache.l1MaxBytes,
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
