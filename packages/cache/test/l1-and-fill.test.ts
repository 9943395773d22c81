import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RedisServer, startRedis } from "@osp/testkit";
import { Redis } from "ioredis";
import type { Cache } from "../src/index.js";
import { closeAll, countingFill, recordLookups, uniquePrefix, waitFor, workers } from "./helpers.js";

const T0 = 1_700_000_000_000;
let redis: RedisServer;
let inspector: Redis;
const opened: Cache[] = [];

before(async () => {
  redis = await startRedis();
  inspector = new Redis(redis.url);
});
after(async () => {
  await closeAll(opened);
  inspector.disconnect();
  await redis.stop();
});

let prefix = "";

/** `count` workers sharing a fresh key prefix (in `prefix`). */
async function open(count: number, clock?: () => number): Promise<Cache[]> {
  prefix = uniquePrefix();
  const caches = await workers(redis.url, count, clock === undefined ? {} : { nowMs: clock }, prefix);
  opened.push(...caches);
  return caches;
}

test("serves a hit from L1, a miss from the fill, and fills again once the TTL passed on the clock", async () => {
  let now = T0;
  const [cache] = await open(1, () => now);
  const ns = cache!.namespace<string>("l1ttl", { ttlMs: 1_000, negativeTtlMs: 100, shared: true });
  const lookups = recordLookups("l1ttl");
  const { fill, calls } = countingFill("v1");
  assert.equal(await ns.get("k", fill), "v1");
  assert.equal(await ns.get("k", fill), "v1");
  assert.equal(calls(), 1);
  now += 999;
  assert.equal(ns.peek("k"), "v1");
  now += 1;
  assert.equal(ns.peek("k"), undefined, "expired at exactly ttlMs");
  assert.equal(await ns.get("k", fill), "v1");
  assert.equal(calls(), 2, "Redis's copy carries the same expiry, so the fill ran again");
  lookups.stop();
  assert.deepEqual(
    lookups.events.map((e) => `${e.tier}:${e.hit ? "hit" : "miss"}`),
    ["l1:miss", "l2:miss", "l1:hit", "l1:hit", "l1:miss", "l2:miss"],
  );
});

test("caches a null result as a negative in L1 and Redis for negativeTtlMs", async () => {
  let now = T0;
  const [a, b] = await open(2, () => now);
  const nsA = a!.namespace<string>("neg", { ttlMs: 60_000, negativeTtlMs: 500, shared: true });
  const nsB = b!.namespace<string>("neg", { ttlMs: 60_000, negativeTtlMs: 500, shared: true });
  const { fill, calls } = countingFill<string>(null);
  assert.equal(await nsA.get("unknown-ak", fill), null);
  assert.equal(nsA.peek("unknown-ak"), null);
  assert.equal(await nsB.get("unknown-ak", fill), null, "worker B reads the negative from Redis");
  assert.equal(calls(), 1);
  const ttl = await inspector.pttl(`${prefix}neg:unknown-ak`);
  assert.ok(ttl > 0 && ttl <= 500, `PX of the negative is ${ttl}`);
  now += 500;
  assert.equal(nsA.peek("unknown-ak"), undefined);
});

test("runs one fill for 100 concurrent gets of one key with redis up", async () => {
  const [cache] = await open(1);
  const ns = cache!.namespace<number>("single", { ttlMs: 60_000, negativeTtlMs: 0, shared: true });
  const { fill, calls } = countingFill(42, 30);
  const results = await Promise.all(Array.from({ length: 100 }, () => ns.get("k", fill)));
  assert.equal(calls(), 1);
  assert.ok(results.every((r) => r === 42));
});

test("keeps a shared:false namespace out of redis", async () => {
  const [cache] = await open(1);
  const secrets = cache!.namespace<string>("secrets", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: false });
  const shared = cache!.namespace<string>("public", { ttlMs: 60_000, negativeTtlMs: 1_000, shared: true });
  await secrets.get("AK1", async () => ({ value: "signing-key" }));
  await secrets.set("AK2", "signing-key-2");
  await shared.get("AK1", async () => ({ value: "visible" }));
  const keys = await inspector.keys(`${prefix}*`);
  assert.deepEqual(keys, [`${prefix}public:AK1`]);
  const stored = await inspector.get(`${prefix}public:AK1`);
  assert.match(stored ?? "", /^V\d+\|\|"visible"$/);
});

test("refresh-ahead serves the old value and refills once in the background", async () => {
  let now = T0;
  const [cache] = await open(1, () => now);
  const ns = cache!.namespace<string>("token", { ttlMs: 60_000, negativeTtlMs: 0, shared: true });
  let version = 0;
  let calls = 0;
  const fill = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 30));
    return { value: `v${++version}`, ttlMs: 10_000, refreshAfterMs: 8_000 };
  };
  assert.equal(await ns.get("apikey-hash", fill), "v1");
  now += 8_000;
  const during = await Promise.all(Array.from({ length: 20 }, () => ns.get("apikey-hash", fill)));
  assert.ok(
    during.every((v) => v === "v1"),
    "the due value keeps serving while the refresh runs",
  );
  for (let i = 0; i < 20; i++) assert.equal(ns.peek("apikey-hash"), "v1");
  await waitFor(() => ns.peek("apikey-hash") === "v2", 2_000, "the refreshed value");
  assert.equal(calls, 2, "one background refill for all those calls");
});

test("another worker sees the refresh time that traveled with the value and refreshes it", async () => {
  let now = T0;
  const [a, b] = await open(2, () => now);
  const opts = { ttlMs: 60_000, negativeTtlMs: 0, shared: true };
  const nsA = a!.namespace<string>("iam", opts);
  const nsB = b!.namespace<string>("iam", opts);
  let version = 0;
  const fill = async () => ({ value: `t${++version}`, ttlMs: 10_000, refreshAfterMs: 5_000 });
  assert.equal(await nsA.get("k", fill), "t1");
  now += 6_000;
  assert.equal(await nsB.get("k", fill), "t1", "B adopts A's value from Redis, already due");
  await waitFor(() => nsB.peek("k") === "t2", 2_000, "B's background refresh");
  assert.equal(version, 2);
  now += 1;
  nsA.peek("k");
  await waitFor(() => nsA.peek("k") === "t2", 2_000, "A's refresh, which takes B's fresh value from Redis");
  assert.equal(version, 2, "A did not fill again: B's value in Redis was fresh");
});

test("retries a failed background refresh after a pause while serving the cached value", async () => {
  let now = T0;
  const [cache] = await open(1, () => now);
  const ns = cache!.namespace<string>("flaky", { ttlMs: 60_000, negativeTtlMs: 0, shared: false });
  let calls = 0;
  const fill = async () => {
    calls++;
    if (calls > 1) throw new Error("IAM unavailable");
    return { value: "v1", refreshAfterMs: 1_000 };
  };
  await ns.get("k", fill);
  now += 1_000;
  assert.equal(ns.peek("k"), "v1");
  await waitFor(() => calls === 2, 2_000, "the refresh attempt");
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 10; i++) assert.equal(ns.peek("k"), "v1");
  assert.equal(calls, 2, "no retry storm");
  now += 1_000;
  ns.peek("k");
  await waitFor(() => calls === 3, 2_000, "the retry after the pause");
});
