/**
 * How a valid new config is applied. Most keys are applied in place: each worker builds a new gateway core
 * and new requests use it (no connection is closed, so no request fails). What a running worker cannot
 * change (the listening socket, the TLS certificate it loaded, its Redis connection and cache TTLs, its
 * verification pool) needs a rolling replacement: a new worker starts and listens, then the old one drains.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "@osp/config";

export interface ReloadPlan {
  readonly kind: "in-place" | "rolling";
  /** The keys that force a rolling replacement (empty for in-place). */
  readonly reasons: readonly string[];
}

/**
 * `tlsBefore`/`tlsAfter` are `tlsFingerprint()`s: a certificate renewed under the same file names is a
 * change too (uWS reads the files once, when a worker starts listening).
 */
export function planReload(current: Config, next: Config, tlsBefore: string, tlsAfter: string): ReloadPlan {
  const reasons: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  if (current.listen.host !== next.listen.host) reasons.push("listen.host");
  if (current.listen.port !== next.listen.port) reasons.push("listen.port");
  if (differs(current.listen.tls, next.listen.tls) || tlsBefore !== tlsAfter) reasons.push("listen.tls");
  if (current.limits.maxHeaderBytes !== next.limits.maxHeaderBytes) reasons.push("limits.maxHeaderBytes");
  if (differs(current.redis, next.redis)) reasons.push("redis");
  // The cache and its namespaces (with their TTLs) are created once per worker process.
  if (differs(current.cache, next.cache)) reasons.push("cache");
  if (differs(current.verify, next.verify)) reasons.push("verify");
  return { kind: reasons.length === 0 ? "in-place" : "rolling", reasons };
}

/** A digest of the TLS certificate and key files' contents ("" without TLS); read errors are part of it. */
export function tlsFingerprint(config: Config): string {
  const tls = config.listen.tls;
  if (tls === undefined) return "";
  const hash = createHash("sha256");
  for (const file of [tls.cert, tls.key]) {
    try {
      hash.update(readFileSync(file));
    } catch (err) {
      hash.update(`unreadable: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    hash.update("\0");
  }
  return hash.digest("hex");
}
