/**
 * The Lua scripts the cache runs in Redis. Each touches exactly one key (KEYS[1]), so each runs on one
 * Redis Cluster node; they are sent as EVALSHA and fall back to EVAL once per node on NOSCRIPT.
 */
import { createHash } from "node:crypto";

export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/** Deletes a fill lock only if it still holds the caller's token (it may have expired and been retaken). */
export const RELEASE_LOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** INCR, and PEXPIRE ARGV[1] on the first increment (or when the key somehow lost its TTL). */
export const INCREMENT_WITH_EXPIRY = script(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`);

/**
 * Token bucket in a hash {tokens, ts}: refills at ARGV[1] tokens/s up to ARGV[2], takes one if it can.
 * Uses the server's clock (TIME) so hosts with skewed clocks share one bucket correctly. The key expires
 * once the bucket would be full again: an absent bucket is a full one.
 */
export const TAKE_TOKEN = script(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return allowed`);
