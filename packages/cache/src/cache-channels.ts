import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events this package publishes; the server turns them into metrics and logs.
 * Events are built only when a subscriber exists (`hasSubscribers`).
 */

/** One per L1 lookup (`get`, and `peek` hits) and per L2 lookup. */
export const CACHE_LOOKUP_CHANNEL = "osp:cache:lookup";

export interface CacheLookupEvent {
  /** The namespace. */
  readonly cache: string;
  readonly tier: "l1" | "l2";
  readonly hit: boolean;
}

/** On every change of the Redis state (not published in memory mode). */
export const CACHE_REDIS_CHANNEL = "osp:cache:redis";

export interface CacheRedisEvent {
  readonly state: "up" | "down";
  /** Why it went down; null when up. Never contains a password. */
  readonly error: string | null;
}

export const cacheLookupChannel = diagnosticsChannel.channel(CACHE_LOOKUP_CHANNEL);
export const cacheRedisChannel = diagnosticsChannel.channel(CACHE_REDIS_CHANNEL);
