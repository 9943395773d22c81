export {
  CACHE_LOOKUP_CHANNEL,
  CACHE_REDIS_CHANNEL,
  type CacheLookupEvent,
  type CacheRedisEvent,
} from "./cache-channels.js";
export type {
  Cache,
  CacheLogger,
  CacheNamespace,
  CacheOptions,
  CacheStatus,
  Fill,
  NamespaceOptions,
  RedisOptions,
  RedisState,
} from "./cache-types.js";
export { createCache } from "./create-cache.js";
export { type ParsedRedisUrl, parseRedisUrl, type RedisHost } from "./parse-redis-url.js";
