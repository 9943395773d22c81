/**
 * Per-process stand-ins for the Redis counters and token buckets, used in memory mode and while Redis
 * is down. Their keys come from clients (presigned URL signatures, access keys), so the maps are bounded:
 * expired entries go first, then the oldest. Losing a counter early lets a URL be used again, which is
 * the documented degradation of running without (or with a down) Redis.
 */

interface Expiring {
  expiresAtMs: number;
}

class BoundedExpiringMap<V extends Expiring> {
  readonly #map = new Map<string, V>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(key: string, nowMs: number): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined || entry.expiresAtMs > nowMs) return entry;
    this.#map.delete(key);
    return undefined;
  }

  set(key: string, value: V, nowMs: number): void {
    if (!this.#map.has(key) && this.#map.size >= this.#maxEntries) this.#evict(nowMs);
    this.#map.set(key, value);
  }

  #evict(nowMs: number): void {
    // Look at a few of the oldest entries for expired ones; else drop the oldest.
    let looked = 0;
    for (const [key, entry] of this.#map) {
      if (entry.expiresAtMs <= nowMs) this.#map.delete(key);
      if (++looked >= 16) break;
    }
    if (this.#map.size >= this.#maxEntries) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }
}

interface Counter extends Expiring {
  count: number;
}

interface Bucket extends Expiring {
  tokens: number;
  atMs: number;
}

export class LocalLimits {
  readonly #counters: BoundedExpiringMap<Counter>;
  readonly #buckets: BoundedExpiringMap<Bucket>;

  constructor(maxEntries: number) {
    this.#counters = new BoundedExpiringMap(maxEntries);
    this.#buckets = new BoundedExpiringMap(maxEntries);
  }

  increment(key: string, ttlMs: number, nowMs: number): number {
    const counter = this.#counters.get(key, nowMs);
    if (counter !== undefined) return ++counter.count;
    this.#counters.set(key, { count: 1, expiresAtMs: nowMs + ttlMs }, nowMs);
    return 1;
  }

  /** The same arithmetic as the TAKE_TOKEN script; an absent (expired) bucket is a full one. */
  takeToken(key: string, ratePerSecond: number, burst: number, nowMs: number): boolean {
    const bucket = this.#buckets.get(key, nowMs) ?? { tokens: burst, atMs: nowMs, expiresAtMs: 0 };
    bucket.tokens = Math.min(
      burst,
      bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * ratePerSecond) / 1000,
    );
    bucket.atMs = nowMs;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    bucket.expiresAtMs = nowMs + Math.ceil(((burst - bucket.tokens) * 1000) / ratePerSecond);
    this.#buckets.set(key, bucket, nowMs);
    return allowed;
  }
}
