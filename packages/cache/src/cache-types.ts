/** The public shapes of the cache; the implementation is in create-cache.ts and cache-namespace.ts. */

export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RedisOptions {
  /** `redis://`, `rediss://`, `redis+sentinel://…/<master>`, `redis+cluster://…` (see parseRedisUrl). */
  url: string;
  /** Prepended to every key and channel, e.g. `osp:`. */
  keyPrefix: string;
  /** Longest wait for a (re)connection before Redis counts as down. */
  connectTimeoutMs: number;
  /** Longest wait for one command; past it the cache serves from L1 and the fill. */
  commandTimeoutMs: number;
}

export interface CacheOptions {
  /** Absent: memory mode (L1 only, per-process counters and buckets, in-process pub/sub). */
  redis?: RedisOptions | undefined;
  /** Entries in the in-process L1, all namespaces together. */
  l1MaxEntries: number;
  /** Estimated heap bytes of the L1's entries, all namespaces together; default `DEFAULT_L1_MAX_BYTES`. */
  l1MaxBytes?: number | undefined;
  log: CacheLogger;
  /** Clock for TTLs and refresh times (tests); default `Date.now`. Waits and timeouts use real time. */
  nowMs?: () => number;
}

export type RedisState = "none" | "connecting" | "up" | "down";

export interface CacheStatus {
  readonly mode: "memory" | "redis";
  readonly redis: RedisState;
  /** When `redis` last changed (nowMs clock). */
  readonly sinceMs: number;
  /** The last connection or command error, `null` when none yet. Never contains a password. */
  readonly lastError: string | null;
}

export interface Cache {
  readonly mode: "memory" | "redis";
  /** Registers a namespace; each name once per Cache (a second call throws a TypeError). */
  namespace<T>(name: string, options: NamespaceOptions<T>): CacheNamespace<T>;
  status(): CacheStatus;
  /** Called on every change of `status().redis`; returns the unsubscribe function. */
  onStatusChange(listener: (s: CacheStatus) => void): () => void;
  /** Resolves true once Redis is up (at once in memory mode), false after `timeoutMs` without it. */
  waitUntilUp(timeoutMs: number): Promise<boolean>;
  /** INCR + PEXPIRE (on first use) in Redis: cluster-wide counter (presigned URL uses). Memory mode or Redis down: a per-process counter with the same expiry (documented degradation). */
  incrementWithExpiry(key: string, ttlMs: number): Promise<number>;
  /** Token bucket (Lua script in Redis, atomic): true = allowed. Memory mode / Redis down: per-process bucket. */
  takeToken(key: string, ratePerSecond: number, burst: number): Promise<boolean>;
  /** Raw hash store for small shared records (the credential store uses it): all no-ops returning null/[] when no Redis; reject with an Error when Redis is down. */
  hashSet(hash: string, field: string, value: string): Promise<void>;
  hashGet(hash: string, field: string): Promise<string | null>;
  hashDelete(hash: string, field: string): Promise<boolean>;
  hashGetAll(hash: string): Promise<Record<string, string>>;
  /** Cluster-wide message bus over the same pub/sub connection (e.g. "credentials changed"). In memory mode: delivered in-process only. With Redis down: delivered in-process, then rejects. */
  publish(topic: string, message: string): Promise<void>;
  subscribe(topic: string, handler: (message: string) => void): () => void;
  close(): Promise<void>;
}

export interface NamespaceOptions<T> {
  /** Positive entries. */
  ttlMs: number;
  /** Cached `null` results. */
  negativeTtlMs: number;
  /** false = L1 only (values must never reach Redis, e.g. secrets). */
  shared: boolean;
  /** Default JSON. */
  codec?: { encode(value: T): string; decode(text: string): T };
  /** Fills take a Redis lock: one process in the whole cluster fills, others wait for its result (IAM tokens). Needs `shared`. */
  lockFill?: boolean;
  /** How long a fill lock lives, and how long losers wait for the winner before filling themselves; default 5000. */
  lockTtlMs?: number;
}

/** A fill's result: per-entry TTL override; refreshAfterMs: serve the value but refill in the background once this much time passed (refresh-ahead). */
export interface Fill<T> {
  value: T | null;
  ttlMs?: number;
  refreshAfterMs?: number;
}

export interface CacheNamespace<T> {
  readonly name: string;
  /** Synchronous L1 lookup for the hot path: the value, `null` for a cached negative, `undefined` when absent/expired. Starts a background refresh when the entry is past refreshAfter. Reports hits only (a miss is reported by the `get` that follows). */
  peek(key: string): T | null | undefined;
  /** L1 → L2 → fill. Concurrent misses for one key in this process share one fill (single-flight). With lockFill, one fill cluster-wide. A fill that throws is not cached; the error is rethrown to every waiter. */
  get(key: string, fill: () => Promise<Fill<T>>): Promise<T | null>;
  /** Stores in L1 and (shared) Redis, and drops the key from the other workers' L1. */
  set(key: string, value: T | null, ttlMs?: number): Promise<void>;
  /** Drops the key from L1 here, from Redis, and (pub/sub) from every worker's L1 on every host, within 1 s. */
  invalidate(key: string): Promise<void>;
  /** Same for every key of the namespace (a policy change). */
  invalidateAll(): Promise<void>;
}
