import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, test } from "node:test";
import { freePort, type RedisServer, startRedis } from "@osp/testkit";
import { type Cache, type CacheRedisEvent, createCache } from "../src/index.js";
import {
  closeAll,
  countingFill,
  recordingLog,
  uniquePrefix,
  waitFor,
  waitForRedis,
  workers,
} from "./helpers.js";

/**
 * The bound on any call while Redis is dead or hung (it must not hang): far below a hang (a command queued
 * until Redis returns), far above a loaded 2-core machine's hiccups.
 */
const NO_HANG_MS = 10_000;
let redis: RedisServer;
const opened: Cache[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await closeAll(opened);
  await redis.stop();
});

async function timed<T>(what: string, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await call();
  const ms = Date.now() - started;
  assert.ok(ms < NO_HANG_MS, `${what} took ${ms} ms`);
  return result;
}

test("serves L1 and fills while redis is killed, then shares again once it is back", async () => {
  const events: CacheRedisEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as CacheRedisEvent);
  diagnosticsChannel.subscribe("osp:cache:redis", onEvent);
  const log = recordingLog();
  const caches = await workers(redis.url, 2, { log });
  opened.push(...caches);
  const [a, b] = caches.map((c) =>
    c.namespace<string>("authz", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: true }),
  );
  const first = countingFill("allow");
  assert.equal(await a!.get("cached", first.fill), "allow");
  assert.equal(await b!.get("cached", first.fill), "allow");
  assert.equal(first.calls(), 1);

  await redis.kill();
  await Promise.all(caches.map((c) => waitForRedis(c, "down", 5_000)));
  assert.equal(caches[0]!.status().redis, "down");
  assert.ok(caches[0]!.status().lastError !== null);

  const missing = countingFill("filled-locally");
  for (let i = 0; i < 20; i++) {
    assert.equal(await timed("an L1 hit", () => a!.get("cached", first.fill)), "allow");
    assert.equal(await timed("a miss", () => a!.get(`miss${i}`, missing.fill)), "filled-locally");
  }
  assert.equal(first.calls(), 1, "L1 kept serving");
  assert.equal(missing.calls(), 20, "each miss filled from the source");
  assert.equal(await timed("a counter", () => caches[0]!.incrementWithExpiry("c", 60_000)), 1);
  assert.equal(await caches[0]!.incrementWithExpiry("c", 60_000), 2, "counted per process");
  assert.equal(await timed("a token", () => caches[0]!.takeToken("ak", 1, 1)), true);
  assert.equal(await caches[0]!.takeToken("ak", 1, 1), false, "limited per process");
  await timed("a hash read", () => assert.rejects(caches[0]!.hashGet("credentials", "AK"), /redis is down/));
  const seen: string[] = [];
  caches[0]!.subscribe("t", (m) => seen.push(m));
  await assert.rejects(caches[0]!.publish("t", "local"), /delivered in this process only/);
  await waitFor(() => seen.length === 1, 1_000, "the local delivery");
  const warnings = log.lines.filter((l) => l.level === "warn" && l.msg.startsWith("redis down"));
  assert.equal(warnings.length, 2, "one warning per worker for the outage, not one per request");
  // An invalidation that cannot reach the other processes says so, once per outage, instead of vanishing
  // (and instead of a line per call).
  await timed("an invalidation", () => a!.invalidate("miss5"));
  assert.equal(a!.peek("miss5"), undefined, "dropped here at least");
  for (let i = 0; i < 5; i++) {
    await a!.invalidate(`miss${i}`);
    await a!.set(`set${i}`, "v");
  }
  await a!.invalidateAll();
  const unshared = log.lines.filter(
    (l) => l.level === "warn" && /not (deleted from Redis|published)/.test(l.msg),
  );
  assert.equal(unshared.length, 1, JSON.stringify(unshared.map((l) => l.msg)));

  await redis.start();
  await Promise.all(caches.map((c) => waitForRedis(c, "up", 10_000)));
  assert.equal(a!.peek("cached"), undefined, "L1 was cleared: invalidations may have been missed");
  assert.equal(b!.peek("miss0"), undefined);
  const again = countingFill("after");
  assert.equal(await a!.get("fresh", again.fill), "after");
  assert.equal(await b!.get("fresh", again.fill), "after");
  assert.equal(again.calls(), 1, "B got A's value from redis");
  await a!.invalidate("fresh");
  await waitFor(() => b!.peek("fresh") === undefined, 1_000, "the invalidation after the restart");
  await caches[1]!.hashSet("credentials", "AK", "x");
  assert.equal(await caches[0]!.hashGet("credentials", "AK"), "x");

  diagnosticsChannel.unsubscribe("osp:cache:redis", onEvent);
  assert.deepEqual(
    events.map((e) => `${e.state}:${e.error === null ? "-" : "error"}`),
    ["up:-", "up:-", "down:error", "down:error", "up:-", "up:-"],
  );
});

test("a hung redis costs a miss at most about one command timeout, then calls fail fast", async () => {
  await redis.start(); // a no-op unless the test before failed while Redis was dead
  const [cache] = await workers(redis.url, 1);
  opened.push(cache!);
  const ns = cache!.namespace<string>("hung", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: true });
  await ns.get("cached", async () => ({ value: "v" }));
  redis.pause();
  try {
    const fill = countingFill("local");
    assert.equal(await timed("the first miss", () => ns.get("m0", fill.fill)), "local");
    await waitForRedis(cache!, "down", 2_000);
    for (let i = 1; i < 10; i++)
      assert.equal(await timed("a miss", () => ns.get(`m${i}`, fill.fill)), "local");
    assert.equal(await timed("an L1 hit", () => ns.get("cached", fill.fill)), "v");
    assert.match(cache!.status().lastError ?? "", /timed out|closed|Connection|ECONN|Ready check/i);
  } finally {
    redis.resume();
  }
  await waitForRedis(cache!, "up", 10_000);
});

test("starts while redis is unreachable, reports down without the password, and connects once it appears", async () => {
  const port = await freePort();
  const log = recordingLog();
  const secret = "hunter2-secret";
  const cache = createCache({
    redis: {
      url: `redis://:${secret}@127.0.0.1:${port}`,
      keyPrefix: uniquePrefix(),
      connectTimeoutMs: 500,
      commandTimeoutMs: 300,
    },
    l1MaxEntries: 100,
    log,
  });
  opened.push(cache);
  assert.equal(cache.status().redis, "connecting");
  const ns = cache.namespace<string>("boot", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: true });
  assert.equal(
    await timed("a get", () => ns.get("k", async () => ({ value: "from source" }))),
    "from source",
  );
  await waitForRedis(cache, "down", 5_000);
  const hashError = await cache.hashSet("h", "f", "v").then(
    () => null,
    (e: unknown) => e as Error,
  );
  assert.ok(hashError instanceof Error);
  const everything = [hashError.message, JSON.stringify(log.lines), JSON.stringify(cache.status())].join(
    "\n",
  );
  assert.ok(!everything.includes(secret), everything);
  assert.match(JSON.stringify(log.lines), /redis:\/\/:\*\*\*@127\.0\.0\.1/);

  const late = await startRedis({ port, args: ["--requirepass", secret] });
  try {
    await waitForRedis(cache, "up", 10_000);
    await cache.hashSet("h", "f", "v");
    assert.equal(await cache.hashGet("h", "f"), "v");
    const wrongLog = recordingLog();
    const wrong = createCache({
      redis: {
        url: `redis://:wrong-${secret}@127.0.0.1:${port}`,
        keyPrefix: "x:",
        connectTimeoutMs: 500,
        commandTimeoutMs: 300,
      },
      l1MaxEntries: 100,
      log: wrongLog,
    });
    opened.push(wrong);
    await waitForRedis(wrong, "down", 5_000);
    assert.match(wrong.status().lastError ?? "", /WRONGPASS|invalid/i);
    assert.ok(!JSON.stringify([wrongLog.lines, wrong.status()]).includes(secret));
  } finally {
    await cache.close();
    await late.stop();
  }
});
