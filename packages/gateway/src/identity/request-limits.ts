/**
 * Per-request quotas shared by the cluster through the cache, both off by default:
 * - `presign.maxUses`: how many times one presigned URL may be used. Counted in Redis under a hash of its
 *   signature (unique per URL), the counter expiring with the URL.
 * - `rateLimit`: a token bucket per access key (Redis Lua, atomic), 503 SlowDown when empty; for unsigned
 *   (anonymous) requests, per source IP.
 * With Redis down both count per process (documented degradation: the limit is then per worker).
 */
import { createHash } from "node:crypto";
import type { Cache } from "@osp/cache";
import type { Config } from "@osp/config";
import { S3Error } from "@osp/errors";
import type { AuthenticatedRequest } from "@osp/sigv4";

/** `null` when neither limit is configured: the pipeline skips the phase without a call. */
export type RequestLimiter = ((auth: AuthenticatedRequest) => Promise<void>) | null;

export function createRequestLimiter(config: Config, cache: Cache): RequestLimiter {
  const maxUses = config.presign.maxUses;
  const rate = config.rateLimit;
  if (maxUses === 0 && !rate.enabled) return null;
  return async (auth) => {
    if (
      rate.enabled &&
      !(await cache.takeToken(`rate:${auth.accessKeyId}`, rate.requestsPerSecond, rate.burst))
    ) {
      throw new S3Error("SlowDown", "Please reduce your request rate for this access key.");
    }
    if (maxUses > 0 && auth.mechanism === "presigned" && auth.presignExpiresSeconds !== null) {
      const expiresAtMs = auth.requestTimeMs + auth.presignExpiresSeconds * 1000;
      const ttlMs = Math.max(1_000, expiresAtMs - Date.now());
      const key = `presign:${createHash("sha256").update(auth.signature).digest("base64url")}`;
      if ((await cache.incrementWithExpiry(key, ttlMs)) > maxUses) {
        throw new S3Error("AccessDenied", "This presigned URL has been used the maximum number of times.");
      }
    }
  };
}

/** `rateLimit` for unsigned requests, which have no access key: `null` when off. */
export type AnonymousLimiter = ((sourceIp: string) => Promise<void>) | null;

/** A token bucket per source IP (`rate:@<ip>`: `@` is in no access key), with the access keys' rate. */
export function createAnonymousLimiter(config: Config, cache: Cache): AnonymousLimiter {
  const rate = config.rateLimit;
  if (!rate.enabled) return null;
  return async (sourceIp) => {
    if (!(await cache.takeToken(`rate:@${sourceIp}`, rate.requestsPerSecond, rate.burst))) {
      throw new S3Error("SlowDown", "Please reduce your request rate.");
    }
  };
}
