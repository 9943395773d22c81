/**
 * The settings one gateway core runs with, read from the config once so that the request path only reads
 * plain numbers and flags (docs/architecture.md "The request pipeline"). Frozen; durations in milliseconds,
 * named `…Ms` (the YAML keys users write keep their names: `limits.idleTimeout` is `idleTimeoutMs` here).
 */
import { type Config, resolveWorkerCount } from "@osp/config";
import type { AuthOptions } from "@osp/sigv4";
import { DEFAULT_ORIGIN_OPTIONS, type OriginOptions } from "@osp/upstream";
import type { VerifyOptions } from "@osp/verify";
import { anonymousAllowed } from "../identity/anonymous.js";

export interface GatewayOptions {
  /** How a request names its bucket and key: path or virtual host, `+`, the longest key. */
  readonly addressing: {
    readonly virtualHostDomains: readonly string[];
    readonly plusIsSpace: boolean;
    readonly maxKeyBytes: number;
  };
  /** Authentication, one object for every request (`authenticateRequest` reads the clock itself). */
  readonly auth: Omit<AuthOptions, "nowMs">;
  /** Signature checks (the verify pool's `verifyRequest`). */
  readonly verify: { readonly plusInPathIsSpace: boolean; readonly exposeCanonicalRequest: boolean };
  /** `auth.minChunkBytes`: the smallest aws-chunked chunk accepted but the last. */
  readonly minChunkBytes: number;
  /** Whether an allow rule names `anonymous` (identity/anonymous.ts): unsigned requests are refused if not. */
  readonly anonymous: boolean;
  /** `limits.maxInFlight`: requests of this worker beyond it get 503 SlowDown before any work. */
  readonly maxInFlight: number;
  /** `limits.requestTimeout` for a whole request (0 = none). */
  readonly requestTimeoutMs: number;
  /** `limits.idleTimeout`: the longest silence on a request body. */
  readonly idleTimeoutMs: number;
  /** `limits.spoolBytes` and `limits.spoolTotalBytes` (pipeline/spool-arena.ts). */
  readonly spoolBytes: number;
  readonly spoolTotalBytes: number;
  /** `logging.accessLog`: one line per request. */
  readonly accessLog: boolean;
  /** `cache.listBucketsTtl` (routing/bucket-listings.ts). */
  readonly listBucketsTtlMs: number;
  /** How long a starting core waits for Redis before it serves without it (`redis.connectTimeout`; 0: none). */
  readonly redisWaitMs: number;
  /** Where signature checks and signed-body hashing run, for this worker's share of the CPUs. */
  readonly verifyPool: VerifyOptions;
  /** The pools of origins that are no endpoint (the authorization webhook, IBM IAM). */
  readonly upstreamDefaults: OriginOptions;
  /** Each endpoint's origin with its own `pool` and `caFile`. */
  readonly upstreamOrigins: ReadonlyMap<string, OriginOptions>;
}

export function resolveGatewayOptions(config: Config): GatewayOptions {
  return Object.freeze({
    addressing: Object.freeze({
      virtualHostDomains: config.addressing.virtualHostDomains,
      plusIsSpace: config.addressing.plusInPathIsSpace,
      maxKeyBytes: config.limits.maxKeyBytes,
    }),
    auth: Object.freeze({
      maxSkewMs: config.auth.maxSkew,
      plusInPathIsSpace: config.addressing.plusInPathIsSpace,
      allowedRegions: config.auth.regions.length === 0 ? null : new Set(config.auth.regions),
      service: "s3",
      maxPresignExpiresSeconds: Math.floor(config.auth.maxPresignExpiry / 1000),
      sigV2: config.auth.sigV2,
      virtualHostDomains: config.addressing.virtualHostDomains,
    }),
    verify: Object.freeze({
      plusInPathIsSpace: config.addressing.plusInPathIsSpace,
      exposeCanonicalRequest: config.auth.exposeCanonicalRequest,
    }),
    minChunkBytes: config.auth.minChunkBytes,
    anonymous: anonymousAllowed(config),
    maxInFlight: config.limits.maxInFlight,
    requestTimeoutMs: config.limits.requestTimeout,
    idleTimeoutMs: config.limits.idleTimeout,
    spoolBytes: config.limits.spoolBytes,
    spoolTotalBytes: config.limits.spoolTotalBytes,
    accessLog: config.logging.accessLog,
    listBucketsTtlMs: config.cache.listBucketsTtl,
    redisWaitMs: config.redis?.connectTimeout ?? 0,
    verifyPool: Object.freeze({
      mode: config.verify.mode,
      threads: config.verify.threads,
      // The cluster's workers share the CPUs: threads 0 gives this worker its share of the spare ones.
      processes: resolveWorkerCount(config),
    }),
    upstreamDefaults: DEFAULT_ORIGIN_OPTIONS,
    upstreamOrigins: endpointOrigins(config),
  });
}

/**
 * Each endpoint's origin with its `pool` settings (the config filled in every default). Two endpoints on one
 * origin share its pool: the later one's settings apply.
 */
function endpointOrigins(config: Config): Map<string, OriginOptions> {
  const map = new Map<string, OriginOptions>();
  for (const e of Object.values(config.endpoints)) {
    map.set(
      new URL(e.url).origin,
      Object.freeze({
        connections: e.pool.connections,
        connectTimeoutMs: e.pool.connectTimeout,
        headersTimeoutMs: e.pool.headersTimeout,
        bodyTimeoutMs: e.pool.bodyTimeout,
        keepAliveTimeoutMs: e.pool.keepAliveTimeout,
        queueTimeoutMs: e.pool.queueTimeout,
        pausedTimeoutMs: e.pool.pausedTimeout,
        caFile: e.caFile ?? null,
      }),
    );
  }
  return map;
}
