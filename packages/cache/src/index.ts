// TEMPORARY STUB written by the lead so the gateway compiles and runs while the cache helper builds the
// real package: the types are the agreed contract; the implementation is memory-only. The cache helper
// replaces this file entirely.
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
export interface RedisOptions {
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}
export interface CacheOptions {
  redis?: RedisOptions | undefined;
  l1MaxEntries: number;
  log: CacheLogger;
  nowMs?: () => number;
}
export interface CacheStatus {
  mode: "memory" | "redis";
  redis: "none" | "connecting" | "up" | "down";
  sinceMs: number;
  lastError: string | null;
}
export interface NamespaceOptions<T> {
  ttlMs: number;
  negativeTtlMs: number;
  shared: boolean;
  codec?: { encode(value: T): string; decode(text: string): T };
  lockFill?: boolean;
}
export interface Fill<T> {
  value: T | null;
  ttlMs?: number;
  refreshAfterMs?: number;
}
export interface CacheNamespace<T> {
  peek(key: string): T | null | undefined;
  get(key: string, fill: () => Promise<Fill<T>>): Promise<T | null>;
  set(key: string, value: T | null, ttlMs?: number): Promise<void>;
  invalidate(key: string): Promise<void>;
  invalidateAll(): Promise<void>;
}
export interface Cache {
  readonly mode: "memory" | "redis";
  namespace<T>(name: string, options: NamespaceOptions<T>): CacheNamespace<T>;
  status(): CacheStatus;
  onStatusChange(listener: (s: CacheStatus) => void): () => void;
  incrementWithExpiry(key: string, ttlMs: number): Promise<number>;
  takeToken(key: string, ratePerSecond: number, burst: number): Promise<boolean>;
  hashSet(hash: string, field: string, value: string): Promise<void>;
  hashGet(hash: string, field: string): Promise<string | null>;
  hashDelete(hash: string, field: string): Promise<boolean>;
  hashGetAll(hash: string): Promise<Record<string, string>>;
  publish(topic: string, message: string): Promise<void>;
  subscribe(topic: string, handler: (message: string) => void): () => void;
  close(): Promise<void>;
}

export function createCache(options: CacheOptions): Cache {
  const now = options.nowMs ?? Date.now;
  const counters = new Map<string, { n: number; until: number }>();
  return {
    mode: "memory",
    namespace<T>(_name: string, o: NamespaceOptions<T>): CacheNamespace<T> {
      const entries = new Map<string, { value: T | null; until: number }>();
      const inflight = new Map<string, Promise<T | null>>();
      const peek = (key: string) => {
        const e = entries.get(key);
        if (e === undefined || e.until <= now()) return undefined;
        return e.value;
      };
      return {
        peek,
        get(key, fill) {
          const v = peek(key);
          if (v !== undefined) return Promise.resolve(v);
          let p = inflight.get(key);
          if (p === undefined) {
            p = fill().then(
              (f) => {
                inflight.delete(key);
                const ttl = f.ttlMs ?? (f.value === null ? o.negativeTtlMs : o.ttlMs);
                entries.set(key, { value: f.value, until: now() + ttl });
                return f.value;
              },
              (err) => {
                inflight.delete(key);
                throw err;
              },
            );
            inflight.set(key, p);
          }
          return p;
        },
        async set(key, value, ttlMs) {
          entries.set(key, { value, until: now() + (ttlMs ?? o.ttlMs) });
        },
        async invalidate(key) {
          entries.delete(key);
        },
        async invalidateAll() {
          entries.clear();
        },
      };
    },
    status: () => ({ mode: "memory", redis: "none", sinceMs: 0, lastError: null }),
    onStatusChange: () => () => {},
    async incrementWithExpiry(key, ttlMs) {
      const c = counters.get(key);
      if (c === undefined || c.until <= now()) {
        counters.set(key, { n: 1, until: now() + ttlMs });
        return 1;
      }
      c.n += 1;
      return c.n;
    },
    takeToken: async () => true,
    hashSet: async () => {},
    hashGet: async () => null,
    hashDelete: async () => false,
    hashGetAll: async () => ({}),
    publish: async () => {},
    subscribe: () => () => {},
    close: async () => {},
  };
}
