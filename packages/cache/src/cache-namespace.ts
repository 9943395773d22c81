/**
 * One namespace of a Cache: L1 → L2 (Redis) → fill, with single-flight per key in this process, an
 * optional cluster-wide fill lock, refresh-ahead and invalidation. The Cache (create-cache.ts) owns the
 * shared pieces: the L1 store, the Redis link and the pub/sub messages.
 */

import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { errorMessage } from "@osp/errors";
import { type CacheLookupEvent, cacheLookupChannel } from "./cache-channels.js";
import type { CacheLogger, CacheNamespace, Fill, NamespaceOptions } from "./cache-types.js";
import { L1Entry, type L1Store } from "./l1-store.js";
import { decodeRedisEntry, encodeRedisEntry } from "./redis-entry.js";
import type { RedisLink } from "./redis-link.js";

/** What a namespace needs from its Cache. */
export interface NamespaceHost {
  readonly l1: L1Store;
  readonly link: RedisLink | null;
  readonly keyPrefix: string;
  readonly nowMs: () => number;
  readonly log: CacheLogger;
  /** Tells the other Cache instances to drop `key` (null: every key) of the namespace from their L1. */
  publishInvalidation(namespace: string, key: string | null): Promise<void>;
  /** Logs an invalidation that did not reach Redis, once per Redis state (`what`: the log message). */
  invalidationLost(namespace: string, err: unknown, what: string): void;
  /** Resolves when another process announces a fill of `namespace:key`, or after `ms`. */
  waitForFill(id: string, ms: number): Promise<void>;
  announceFill(namespace: string, key: string): Promise<void>;
}

type Filler<T> = () => Promise<Fill<T>>;

/** One load of one key; `stale` once an invalidation overtook it, so its result is returned but not stored. */
class Flight<T> {
  stale = false;
  promise: Promise<T | null> = Promise.resolve(null);
}

interface Found<T> {
  readonly value: T | null;
  readonly expiresAtMs: number;
  readonly refreshAtMs: number;
}

const DEFAULT_LOCK_TTL_MS = 5_000;
/** How often a process waiting for another's locked fill looks at Redis (a notice wakes it sooner). */
const LOCK_POLL_MS = 40;
/** After a failed background refresh the cached value keeps serving; the next try waits this long. */
const REFRESH_RETRY_MS = 1_000;
const REFRESH_LOG_INTERVAL_MS = 10_000;
const jsonCodec = {
  encode: (v: unknown) => JSON.stringify(v),
  decode: (t: string) => JSON.parse(t) as unknown,
};

export class CacheNamespaceImpl<T> implements CacheNamespace<T> {
  #generation = 0;
  #lastRefreshLogMs = Number.NEGATIVE_INFINITY;
  readonly #flights = new Map<string, Flight<T>>();
  readonly #l1Prefix: string;
  readonly #redisPrefix: string;
  readonly #lockPrefix: string;
  readonly #codec: { encode(value: T): string; decode(text: string): T };
  readonly #lockTtlMs: number;
  readonly #options: NamespaceOptions<T>;
  readonly #host: NamespaceHost;

  constructor(
    readonly name: string,
    options: NamespaceOptions<T>,
    host: NamespaceHost,
  ) {
    this.#options = options;
    this.#host = host;
    this.#l1Prefix = `${name}:`;
    this.#redisPrefix = `${host.keyPrefix}${name}:`;
    this.#lockPrefix = `${host.keyPrefix}lock:${name}:`;
    this.#codec = options.codec ?? (jsonCodec as { encode(value: T): string; decode(text: string): T });
    this.#lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  }

  peek(key: string): T | null | undefined {
    const now = this.#host.nowMs();
    const entry = this.#lookup(key, now);
    if (entry === undefined) return undefined;
    if (cacheLookupChannel.hasSubscribers) this.#report("l1", true);
    if (entry.refreshAtMs <= now) this.#refresh(key, entry, null);
    return entry.value as T | null;
  }

  get(key: string, fill: Filler<T>): Promise<T | null> {
    const now = this.#host.nowMs();
    const entry = this.#lookup(key, now);
    if (cacheLookupChannel.hasSubscribers) this.#report("l1", entry !== undefined);
    if (entry !== undefined) {
      if (entry.refreshAtMs <= now) this.#refresh(key, entry, fill);
      return Promise.resolve(entry.value as T | null);
    }
    return (this.#flights.get(key) ?? this.#start(key, fill, false)).promise;
  }

  async set(key: string, value: T | null, ttlMs?: number): Promise<void> {
    const ttl = ttlMs ?? (value === null ? this.#options.negativeTtlMs : this.#options.ttlMs);
    if (!(ttl > 0)) return this.invalidate(key);
    this.#overtake(key);
    const found = { value, expiresAtMs: this.#host.nowMs() + ttl, refreshAtMs: Number.POSITIVE_INFINITY };
    this.#storeL1(key, found, null);
    await this.#writeL2(key, found);
    await this.#host.publishInvalidation(this.name, key);
  }

  async invalidate(key: string): Promise<void> {
    this.dropLocal(key);
    const link = this.#host.link;
    if (this.#options.shared && link !== null) {
      await link.del(this.#redisPrefix + key).catch((err) => this.#sharedDeleteFailed(err));
    }
    await this.#host.publishInvalidation(this.name, key);
  }

  async invalidateAll(): Promise<void> {
    this.dropLocal(null);
    const link = this.#host.link;
    if (this.#options.shared && link !== null) {
      await link
        .deleteMatching(`${escapeGlob(this.#redisPrefix)}*`)
        .catch((err) => this.#sharedDeleteFailed(err));
    }
    await this.#host.publishInvalidation(this.name, null);
  }

  /** A delete that could not reach Redis is logged, once per Redis state (create-cache.ts), never swallowed. */
  #sharedDeleteFailed(err: unknown): void {
    this.#host.invalidationLost(
      this.name,
      err,
      "cache entry not deleted from Redis: other processes may read it until its TTL ends",
    );
  }

  /** Drops one key (null: all) from this process's L1; loads in flight are not stored. */
  dropLocal(key: string | null): void {
    if (key === null) {
      this.#generation++;
      for (const flight of this.#flights.values()) flight.stale = true;
      this.#flights.clear();
      return;
    }
    this.#host.l1.delete(this.#l1Prefix + key);
    this.#overtake(key);
  }

  #overtake(key: string): void {
    const flight = this.#flights.get(key);
    if (flight === undefined) return;
    flight.stale = true;
    this.#flights.delete(key);
  }

  #lookup(key: string, now: number): L1Entry | undefined {
    const id = this.#l1Prefix + key;
    const entry = this.#host.l1.get(id);
    if (entry === undefined) return undefined;
    if (entry.generation === this.#generation && entry.expiresAtMs > now) return entry;
    this.#host.l1.delete(id);
    return undefined;
  }

  #start(key: string, fill: Filler<T>, background: boolean): Flight<T> {
    const flight = new Flight<T>();
    this.#flights.set(key, flight);
    flight.promise = this.#load(key, fill, flight, background).finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
      // A value adopted from Redis may already be due for refresh (another worker wrote it long ago).
      const now = this.#host.nowMs();
      const entry = background ? undefined : this.#lookup(key, now);
      if (entry !== undefined && entry.refreshAtMs <= now) this.#refresh(key, entry, fill);
    });
    return flight;
  }

  /** Background refresh of a served entry: single-flight, and a failure only delays the next try. */
  #refresh(key: string, entry: L1Entry, fill: Filler<T> | null): void {
    const refill = fill ?? (entry.fill as Filler<T> | null);
    if (refill === null || this.#flights.has(key)) return;
    this.#start(key, refill, true).promise.catch((err: unknown) => {
      const now = this.#host.nowMs();
      entry.refreshAtMs = now + REFRESH_RETRY_MS;
      // Many keys may fail together (their source is down): one line per namespace and interval.
      if (now - this.#lastRefreshLogMs < REFRESH_LOG_INTERVAL_MS) return;
      this.#lastRefreshLogMs = now;
      this.#host.log.warn(
        { cache: this.name, err: errorMessage(err) },
        "cache refresh failed; serving the cached value",
      );
    });
  }

  async #load(key: string, fill: Filler<T>, flight: Flight<T>, background: boolean): Promise<T | null> {
    const link = this.#host.link;
    if (this.#options.shared && link?.usable === true) {
      const found = await this.#readL2(key, background, true);
      if (found !== undefined) return this.#adopt(key, found, fill, flight);
      if (this.#options.lockFill === true) return this.#lockedFill(key, fill, flight, background, link);
    }
    return this.#fillNow(key, fill, flight);
  }

  /**
   * One fill for the whole cluster: SET NX PX on a lock key with a random token. The winner looks at
   * Redis once more (a winner before it may have just finished), fills, writes the value, releases the
   * lock if still its own, then announces the fill. Losers wait for the notice or poll, and fill
   * themselves once the lock's TTL passed or Redis failed.
   */
  async #lockedFill(
    key: string,
    fill: Filler<T>,
    flight: Flight<T>,
    background: boolean,
    link: RedisLink,
  ): Promise<T | null> {
    const lockKey = this.#lockPrefix + key;
    const token = randomUUID();
    const deadline = performance.now() + this.#lockTtlMs;
    for (;;) {
      // A failed command is logged by the link (redis-link.ts, its header): this process fills alone.
      const won = await link.setNxPx(lockKey, token, this.#lockTtlMs).catch(() => null);
      if (won === null) return this.#fillNow(key, fill, flight);
      if (won) {
        try {
          const found = await this.#readL2(key, background, false);
          return found !== undefined
            ? this.#adopt(key, found, fill, flight)
            : await this.#fillNow(key, fill, flight);
        } finally {
          // Lost, the lock ends with its TTL; the failure is logged by the link (redis-link.ts, its header).
          await link.releaseLock(lockKey, token).catch(() => {});
          await this.#host.announceFill(this.name, key);
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return this.#fillNow(key, fill, flight);
      await this.#host.waitForFill(this.#l1Prefix + key, Math.min(LOCK_POLL_MS, left));
      const found = await this.#readL2(key, background, false);
      if (found !== undefined) return this.#adopt(key, found, fill, flight);
      if (!link.usable) return this.#fillNow(key, fill, flight);
    }
  }

  async #fillNow(key: string, fill: Filler<T>, flight: Flight<T>): Promise<T | null> {
    const result = await fill();
    const value = result.value;
    const ttl = result.ttlMs ?? (value === null ? this.#options.negativeTtlMs : this.#options.ttlMs);
    if (ttl <= 0 || flight.stale) return value;
    const now = this.#host.nowMs();
    const refreshAtMs =
      result.refreshAfterMs === undefined ? Number.POSITIVE_INFINITY : now + result.refreshAfterMs;
    const found = { value, expiresAtMs: now + ttl, refreshAtMs };
    this.#storeL1(key, found, fill);
    await this.#writeL2(key, found);
    return value;
  }

  #adopt(key: string, found: Found<T>, fill: Filler<T>, flight: Flight<T>): T | null {
    if (!flight.stale) this.#storeL1(key, found, fill);
    return found.value;
  }

  #storeL1(key: string, found: Found<T>, fill: Filler<T> | null): void {
    // The fill is kept only for refresh-ahead: it may hold on to whatever its caller captured.
    const refill = found.refreshAtMs === Number.POSITIVE_INFINITY ? null : fill;
    const entry = new L1Entry(found.value, found.expiresAtMs, found.refreshAtMs, this.#generation, refill);
    this.#host.l1.set(this.#l1Prefix + key, entry);
  }

  /** The entry in Redis if usable: unexpired, decodable, and for a refresh not due itself. Errors are misses. */
  async #readL2(key: string, background: boolean, report: boolean): Promise<Found<T> | undefined> {
    const link = this.#host.link;
    if (link === null) return undefined;
    // A failure is logged by the link (redis-link.ts, its header) and is a miss here.
    const text = await link.get(this.#redisPrefix + key).catch(() => null);
    const found = text === null ? undefined : this.#decode(text);
    const now = this.#host.nowMs();
    const usable = found !== undefined && found.expiresAtMs > now && (!background || found.refreshAtMs > now);
    if (report && cacheLookupChannel.hasSubscribers) this.#report("l2", usable);
    return usable ? found : undefined;
  }

  #decode(text: string): Found<T> | undefined {
    const entry = decodeRedisEntry(text);
    if (entry === null) return undefined;
    try {
      const value = entry.payload === null ? null : this.#codec.decode(entry.payload);
      return { value, expiresAtMs: entry.expiresAtMs, refreshAtMs: entry.refreshAtMs };
    } catch {
      return undefined;
    }
  }

  async #writeL2(key: string, found: Found<T>): Promise<void> {
    const link = this.#host.link;
    if (!this.#options.shared || link === null || !link.usable) return;
    const payload = found.value === null ? null : this.#codec.encode(found.value);
    const text = encodeRedisEntry({
      payload,
      expiresAtMs: found.expiresAtMs,
      refreshAtMs: found.refreshAtMs,
    });
    // Not shared this time; the failure is logged by the link (redis-link.ts, its header).
    await link.setPx(this.#redisPrefix + key, text, found.expiresAtMs - this.#host.nowMs()).catch(() => {});
  }

  #report(tier: "l1" | "l2", hit: boolean): void {
    const event: CacheLookupEvent = { cache: this.name, tier, hit };
    cacheLookupChannel.publish(event);
  }
}

/** Escapes SCAN MATCH glob characters in a literal prefix. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
