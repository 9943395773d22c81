import { randomUUID } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import {
  type Cache,
  type CacheLogger,
  type CacheOptions,
  createCache,
  type RedisState,
} from "../src/index.js";

export interface LogLine {
  readonly level: "warn" | "info" | "error";
  readonly obj: object;
  readonly msg: string;
}

/** A CacheLogger that keeps what it is given. */
export function recordingLog(): CacheLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: "warn", obj, msg }),
    info: (obj, msg) => lines.push({ level: "info", obj, msg }),
    error: (obj, msg) => lines.push({ level: "error", obj, msg }),
  };
}

export const TEST_COMMAND_TIMEOUT_MS = 300;

/** A Redis-mode cache (a "worker") on `url`; a fresh prefix per test keeps tests apart on one server. */
export function redisCache(url: string, keyPrefix: string, extra: Partial<CacheOptions> = {}): Cache {
  return createCache({
    redis: { url, keyPrefix, connectTimeoutMs: 500, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS },
    l1MaxEntries: 1_000,
    log: recordingLog(),
    ...extra,
  });
}

export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 8)}:`;
}

export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function waitForRedis(cache: Cache, state: RedisState, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => cache.status().redis === state, timeoutMs, `redis ${state}`);
}

/** Starts `count` caches on `url` with one prefix and waits until each is up. */
export async function workers(
  url: string,
  count: number,
  extra: Partial<CacheOptions> = {},
  prefix = uniquePrefix(),
): Promise<Cache[]> {
  const caches = Array.from({ length: count }, () => redisCache(url, prefix, extra));
  try {
    await Promise.all(caches.map((c) => waitForRedis(c, "up")));
  } catch (err) {
    // Left open, their reconnect timers would keep the test file alive until the runner's timeout.
    await closeAll(caches);
    throw err;
  }
  return caches;
}

export interface Lookup {
  readonly cache: string;
  readonly tier: "l1" | "l2";
  readonly hit: boolean;
}

/** Records osp:cache:lookup events of one namespace until `stop()`. */
export function recordLookups(namespace: string): { events: Lookup[]; stop(): void } {
  const events: Lookup[] = [];
  const listener = (message: unknown) => {
    const event = message as Lookup;
    if (event.cache === namespace) events.push({ cache: event.cache, tier: event.tier, hit: event.hit });
  };
  diagnosticsChannel.subscribe("osp:cache:lookup", listener);
  return { events, stop: () => diagnosticsChannel.unsubscribe("osp:cache:lookup", listener) };
}

/** A fill that counts its calls and answers `value` after `delayMs`. */
export function countingFill<T>(
  value: T | null,
  delayMs = 0,
  extra: { ttlMs?: number; refreshAfterMs?: number } = {},
): {
  fill: () => Promise<{ value: T | null; ttlMs?: number; refreshAfterMs?: number }>;
  calls: () => number;
} {
  let calls = 0;
  return {
    calls: () => calls,
    fill: async () => {
      calls++;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return { value, ...extra };
    },
  };
}

export async function closeAll(caches: readonly Cache[]): Promise<void> {
  await Promise.all(caches.map((c) => c.close()));
}
