/**
 * Per-process stand-ins for the Redis counters and token buckets, used in memory mode and while Redis
 * is down. Their keys come from clients (presigned URL signatures, access keys), so the maps are bounded:
 * expired entries go first, then old ones. Losing a counter early lets a URL be used again, which is
 * the documented degradation of running without (or with a down) Redis.
 */

import { MapHand } from "./map-hand.js";

export interface Expiring {
  expiresAtMs: number;
}

/** Exported for its tests; the package exports `LocalLimits` only. */
export class BoundedExpiringMap<V extends Expiring> {
  readonly #map = new Map<string, V>();
  readonly #hand = new MapHand(this.#map);
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#map.size;
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

  /**
   * The hand walks the entries oldest first and wraps around: of the next 16 it passes, the expired ones
   * leave; if the map is still full, so does the first live one it passed. A key that comes back keeps its
   * place, so the hand meets keys roughly in the order they first came.
   */
  #evict(nowMs: number): void {
    let victim: string | null = null;
    for (let looked = 0; looked < 16; looked++) {
      const step = this.#hand.next();
      if (step === null) break;
      const [key, entry] = step;
      if (entry.expiresAtMs <= nowMs) this.#map.delete(key);
      else victim ??= key;
    }
    if (this.#map.size >= this.#maxEntries && victim !== null) this.#map.delete(victim);
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
