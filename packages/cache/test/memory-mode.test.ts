import assert from "node:assert/strict";
import { test } from "node:test";
import { errorMessage } from "@osp/errors";
import { type Cache, createCache } from "../src/index.js";
import { countingFill, recordingLog } from "./helpers.js";

const T0 = 1_700_000_000_000;

function memoryCache(
  options: { l1MaxEntries?: number; l1MaxBytes?: number; clock?: () => number } = {},
): Cache {
  return createCache({
    l1MaxEntries: options.l1MaxEntries ?? 1_000,
    l1MaxBytes: options.l1MaxBytes,
    log: recordingLog(),
    ...(options.clock === undefined ? {} : { nowMs: options.clock }),
  });
}

test("without a redis section the cache runs in memory mode and reports no redis", async () => {
  const cache = memoryCache();
  assert.equal(cache.mode, "memory");
  assert.deepEqual(cache.status(), {
    mode: "memory",
    redis: "none",
    sinceMs: cache.status().sinceMs,
    lastError: null,
  });
  await cache.close();
});

test("runs one fill for 100 concurrent gets of one key and serves the rest from L1", async () => {
  const cache = memoryCache();
  const ns = cache.namespace<{ n: number }>("authz", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: true });
  const { fill, calls } = countingFill({ n: 7 }, 20);
  const results = await Promise.all(Array.from({ length: 100 }, () => ns.get("k", fill)));
  assert.equal(calls(), 1);
  assert.ok(results.every((r) => r?.n === 7));
  assert.deepEqual(ns.peek("k"), { n: 7 });
  assert.equal(ns.peek("other"), undefined);
  await ns.get("k", fill);
  assert.equal(calls(), 1);
});

test("rethrows a failed fill to every waiter and caches nothing", async () => {
  const cache = memoryCache();
  const ns = cache.namespace<string>("creds", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: false });
  let calls = 0;
  const failing = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    throw new Error("source unavailable");
  };
  const settled = await Promise.allSettled(Array.from({ length: 10 }, () => ns.get("k", failing)));
  assert.equal(calls, 1);
  for (const s of settled)
    assert.ok(s.status === "rejected" && errorMessage(s.reason) === "source unavailable");
  assert.equal(ns.peek("k"), undefined);
  assert.equal(await ns.get("k", async () => ({ value: "ok" })), "ok");
});

test("keeps a negative for negativeTtlMs and a value for ttlMs or the fill's own ttlMs", async () => {
  let now = T0;
  const cache = memoryCache({ clock: () => now });
  const ns = cache.namespace<string>("keys", { ttlMs: 10_000, negativeTtlMs: 1_000, shared: true });
  assert.equal(await ns.get("missing", async () => ({ value: null })), null);
  assert.equal(await ns.get("short", async () => ({ value: "v", ttlMs: 500 })), "v");
  assert.equal(await ns.get("long", async () => ({ value: "v" })), "v");
  now += 400;
  assert.equal(ns.peek("missing"), null, "a cached negative is null, not undefined");
  assert.equal(ns.peek("short"), "v");
  now += 200;
  assert.equal(ns.peek("short"), undefined, "the fill's ttlMs overrides the namespace's");
  now += 500;
  assert.equal(ns.peek("missing"), undefined);
  assert.equal(ns.peek("long"), "v");
  now += 9_000;
  assert.equal(ns.peek("long"), undefined);
});

test("bounds L1 at l1MaxEntries over all namespaces and keeps recently used entries", async () => {
  const cache = memoryCache({ l1MaxEntries: 100 });
  const a = cache.namespace<number>("a", { ttlMs: 60_000, negativeTtlMs: 0, shared: true });
  const b = cache.namespace<number>("b", { ttlMs: 60_000, negativeTtlMs: 0, shared: true });
  await a.set("hot", 1);
  for (let i = 0; i < 300; i++) {
    await (i % 2 === 0 ? a : b).set(`k${i}`, i);
    assert.equal(a.peek("hot"), 1, `the hot entry survives insert ${i}`);
  }
  let present = 0;
  for (let i = 0; i < 300; i++) if ((i % 2 === 0 ? a : b).peek(`k${i}`) !== undefined) present++;
  assert.ok(present <= 99, `${present} entries besides the hot one`);
  assert.ok((b.peek("k299") ?? -1) === 299, "the newest entry is there");
});

test("bounds L1 at l1MaxBytes when entries are large, keeping the newest", async () => {
  const cache = memoryCache({ l1MaxEntries: 10_000, l1MaxBytes: 200_000 });
  const ns = cache.namespace<{ secret: string }>("credential", {
    ttlMs: 60_000,
    negativeTtlMs: 0,
    shared: false,
  });
  for (let i = 0; i < 1_000; i++) await ns.set(`k${i}`, { secret: "s".repeat(1_000) + i });
  let present = 0;
  for (let i = 0; i < 1_000; i++) if (ns.peek(`k${i}`) !== undefined) present++;
  // Each entry holds over a kilobyte: 200 kB keeps under 200 of them, where the entry bound allows all.
  assert.ok(present > 100 && present < 200, `${present} entries kept`);
  assert.equal(ns.peek("k999")?.secret.length, 1_003, "the newest entry is there");
  assert.equal(ns.peek("k0"), undefined, "the oldest was evicted");
  await cache.close();
});

test("counts per process with the same expiry and limits with a per-process token bucket", async () => {
  let now = T0;
  const cache = memoryCache({ clock: () => now });
  assert.equal(await cache.incrementWithExpiry("url-1", 1_000), 1);
  assert.equal(await cache.incrementWithExpiry("url-1", 1_000), 2);
  assert.equal(await cache.incrementWithExpiry("url-2", 1_000), 1);
  now += 1_001;
  assert.equal(await cache.incrementWithExpiry("url-1", 1_000), 1, "the counter expired");

  const taken = [];
  for (let i = 0; i < 5; i++) taken.push(await cache.takeToken("ak", 2, 3));
  assert.deepEqual(taken, [true, true, true, false, false]);
  now += 500;
  assert.equal(await cache.takeToken("ak", 2, 3), true, "one token refilled after 0.5 s at 2/s");
  assert.equal(await cache.takeToken("ak", 2, 3), false);
  assert.equal(await cache.takeToken("other", 2, 3), true);
  await assert.rejects(cache.takeToken("ak", 0, 3), TypeError);
});

test("delivers published messages in-process and stops after unsubscribe", async () => {
  const cache = memoryCache();
  const seen: string[] = [];
  const off = cache.subscribe("credentials", (m) => seen.push(m));
  await cache.publish("credentials", "changed:AK1");
  await cache.publish("elsewhere", "x");
  await new Promise((r) => setImmediate(r));
  off();
  await cache.publish("credentials", "changed:AK2");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ["changed:AK1"]);
});

test("makes the hash store a no-op without redis", async () => {
  const cache = memoryCache();
  await cache.hashSet("credentials", "AK", "v");
  assert.equal(await cache.hashGet("credentials", "AK"), null);
  assert.equal(await cache.hashDelete("credentials", "AK"), false);
  assert.deepEqual(await cache.hashGetAll("credentials"), {});
});

test("rejects bad namespace names, duplicates and lockFill without shared", () => {
  const cache = memoryCache();
  const opts = { ttlMs: 1, negativeTtlMs: 1, shared: true };
  cache.namespace("authz", opts);
  assert.throws(() => cache.namespace("authz", opts), /already exists/);
  assert.throws(() => cache.namespace("a:b", opts), TypeError);
  assert.throws(() => cache.namespace("lock", opts), TypeError);
  assert.throws(() => cache.namespace("x", { ...opts, ttlMs: -1 }), /ttlMs/);
  assert.throws(
    () => cache.namespace("y", { ...opts, shared: false, lockFill: true }),
    /lockFill needs shared/,
  );
});

test("invalidate and invalidateAll drop entries, and a fill overtaken by an invalidation is not stored", async () => {
  const cache = memoryCache();
  const ns = cache.namespace<string>("policy", { ttlMs: 60_000, negativeTtlMs: 0, shared: true });
  await ns.set("a", "1");
  await ns.set("b", "2");
  await ns.invalidate("a");
  assert.equal(ns.peek("a"), undefined);
  assert.equal(ns.peek("b"), "2");
  await ns.invalidateAll();
  assert.equal(ns.peek("b"), undefined);

  const slow = ns.get("c", async () => {
    await new Promise((r) => setTimeout(r, 20));
    return { value: "old" };
  });
  await ns.invalidate("c");
  assert.equal(await slow, "old", "the caller still gets its result");
  assert.equal(ns.peek("c"), undefined, "but it is not cached past the invalidation");
});
