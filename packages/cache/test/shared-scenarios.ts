/**
 * What several workers sharing one Redis must see, run against a standalone server (shared.test.ts)
 * and a 3-node Redis Cluster (cluster.test.ts).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { errorMessage } from "@osp/errors";
import type { Cache, CacheNamespace, NamespaceOptions } from "../src/index.js";
import { closeAll, countingFill, recordLookups, waitFor, workers } from "./helpers.js";

export function defineSharedScenarios(redisUrl: () => string): void {
  const opened: Cache[] = [];
  after(() => closeAll(opened));

  async function open(count: number): Promise<Cache[]> {
    const caches = await workers(redisUrl(), count);
    opened.push(...caches);
    return caches;
  }

  function each<T>(caches: Cache[], name: string, options: NamespaceOptions<T>): CacheNamespace<T>[] {
    return caches.map((c) => c.namespace<T>(name, options));
  }

  const plain = { ttlMs: 60_000, negativeTtlMs: 5_000, shared: true };

  test("a second worker gets the value from redis without filling", async () => {
    const [a, b] = each<{ id: string }>(await open(2), "authz", plain);
    const { fill, calls } = countingFill({ id: "allow" });
    const lookups = recordLookups("authz");
    assert.deepEqual(await a!.get("alice|read|data", fill), { id: "allow" });
    assert.deepEqual(await b!.get("alice|read|data", fill), { id: "allow" });
    lookups.stop();
    assert.equal(calls(), 1);
    assert.deepEqual(
      lookups.events.map((e) => `${e.tier}:${e.hit ? "hit" : "miss"}`),
      ["l1:miss", "l2:miss", "l1:miss", "l2:hit"],
    );
    assert.deepEqual(b!.peek("alice|read|data"), { id: "allow" }, "and keeps it in its L1");
  });

  test("lockFill: 5 workers × 40 concurrent gets run exactly one fill", async () => {
    const namespaces = each<string>(await open(5), "iam", { ...plain, lockFill: true });
    const { fill, calls } = countingFill("token-1", 150);
    const results = await Promise.all(
      namespaces.flatMap((ns) => Array.from({ length: 40 }, () => ns.get("apikey-hash", fill))),
    );
    assert.equal(results.length, 200);
    assert.ok(results.every((r) => r === "token-1"));
    assert.equal(calls(), 1);
  });

  test("lockFill: a fast fill still runs once when workers arrive one after another", async () => {
    const namespaces = each<string>(await open(5), "iam-fast", { ...plain, lockFill: true });
    const { fill, calls } = countingFill("token", 0);
    for (let round = 0; round < 3; round++) {
      await Promise.all(namespaces.map((ns) => ns.get(`k${round}`, fill)));
    }
    assert.equal(calls(), 3);
  });

  test("lockFill: when the winner's fill fails, another worker takes the lock and fills", async () => {
    const [a, b] = each<string>(await open(2), "iam-fail", { ...plain, lockFill: true });
    let calls = 0;
    const fill = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      if (calls === 1) throw new Error("IAM 500");
      return { value: "token" };
    };
    const [ra, rb] = await Promise.allSettled([a!.get("k", fill), b!.get("k", fill)]);
    const outcomes = [ra, rb].map((r) => (r.status === "fulfilled" ? r.value : errorMessage(r.reason)));
    assert.deepEqual(outcomes.sort(), ["IAM 500", "token"]);
    assert.equal(calls, 2);
  });

  test("an invalidate from one worker reaches another worker's L1 within 1 s", async () => {
    const [a, b, c] = each<string>(await open(3), "policy", plain);
    await a!.get("k", async () => ({ value: "old" }));
    await b!.get("k", async () => ({ value: "unused" }));
    await c!.get("k", async () => ({ value: "unused" }));
    assert.equal(b!.peek("k"), "old");
    const started = Date.now();
    await a!.invalidate("k");
    assert.equal(a!.peek("k"), undefined);
    await waitFor(() => b!.peek("k") === undefined && c!.peek("k") === undefined, 10_000, "the invalidation");
    // Delivered by pub/sub, not by a TTL running out (the entry's TTL is far longer).
    assert.ok(Date.now() - started < 10_000);
    assert.equal(await b!.get("k", async () => ({ value: "new" })), "new", "and Redis no longer has it");
    assert.equal(await c!.get("k", async () => ({ value: "other" })), "new");
  });

  test("invalidateAll empties the namespace in every worker and in redis, and leaves others alone", async () => {
    const caches = await open(2);
    const [a, b] = each<number>(caches, "rules", plain);
    const [keepA, keepB] = each<number>(caches, "keep", plain);
    for (let i = 0; i < 50; i++) await a!.get(`k${i}`, async () => ({ value: i }));
    await keepA!.get("x", async () => ({ value: 1 }));
    for (let i = 0; i < 50; i++) assert.equal(await b!.get(`k${i}`, async () => ({ value: -1 })), i);
    await keepB!.get("x", async () => ({ value: -1 }));
    await a!.invalidateAll();
    await waitFor(() => b!.peek("k0") === undefined, 1_000, "the invalidation in B");
    for (let i = 0; i < 50; i++) assert.equal(b!.peek(`k${i}`), undefined);
    assert.equal(await b!.get("k7", async () => ({ value: 700 })), 700, "Redis lost it too");
    assert.equal(keepB!.peek("x"), 1);
    assert.equal(await keepA!.get("x", async () => ({ value: -1 })), 1);
  });

  test("set in one worker replaces the value every worker serves", async () => {
    const [a, b] = each<string>(await open(2), "creds", plain);
    await a!.set("AK", "v1");
    assert.equal(await b!.get("AK", async () => ({ value: "filled" })), "v1");
    await a!.set("AK", "v2");
    await waitFor(() => b!.peek("AK") === undefined, 1_000, "B dropping v1");
    assert.equal(await b!.get("AK", async () => ({ value: "filled" })), "v2");
  });

  test("incrementWithExpiry counts across workers and starts over once expired", async () => {
    const [a, b] = await open(2);
    assert.equal(await a!.incrementWithExpiry("presign:sig1", 300), 1);
    assert.equal(await b!.incrementWithExpiry("presign:sig1", 300), 2);
    assert.equal(await a!.incrementWithExpiry("presign:sig1", 300), 3);
    assert.equal(await b!.incrementWithExpiry("presign:sig2", 300), 1);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await b!.incrementWithExpiry("presign:sig1", 300), 1);
  });

  test("takeToken shares one bucket between workers", async () => {
    const [a, b] = await open(2);
    const taken: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      taken.push(await a!.takeToken("AK1", 0.01, 3));
      taken.push(await b!.takeToken("AK1", 0.01, 3));
    }
    assert.deepEqual(taken, [true, true, true, false, false, false, false, false]);
    assert.equal(await b!.takeToken("AK2", 0.01, 3), true, "other keys have their own bucket");
  });

  test("takeToken refills at the given rate", async () => {
    const [a] = await open(1);
    for (let i = 0; i < 2; i++) assert.equal(await a!.takeToken("fast", 20, 2), true);
    assert.equal(await a!.takeToken("fast", 20, 2), false);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await a!.takeToken("fast", 20, 2), true, "two tokens back after 100 ms at 20/s");
  });

  test("the hash store is shared between workers", async () => {
    const [a, b] = await open(2);
    await a!.hashSet("credentials", "AK1", "enc-1");
    await a!.hashSet("credentials", "AK2", "enc-2");
    assert.equal(await b!.hashGet("credentials", "AK1"), "enc-1");
    assert.equal(await b!.hashGet("credentials", "nope"), null);
    assert.deepEqual(await b!.hashGetAll("credentials"), { AK1: "enc-1", AK2: "enc-2" });
    assert.equal(await b!.hashDelete("credentials", "AK1"), true);
    assert.equal(await b!.hashDelete("credentials", "AK1"), false);
    assert.deepEqual(await a!.hashGetAll("credentials"), { AK2: "enc-2" });
  });

  test("publish reaches every worker's subscribers, the sender's included", async () => {
    const caches = await open(3);
    const seen: string[] = [];
    const offs = caches.map((c, i) => c.subscribe("credentials", (m) => seen.push(`${i}:${m}`)));
    // SUBSCRIBE is asynchronous: ping until every worker got one, then count only the real message.
    for (let n = 0; new Set(seen.map((s) => s.split(":")[0])).size < 3; n++) {
      await caches[0]!.publish("credentials", `ping${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await caches[0]!.publish("credentials", "AK9");
    const real = () => seen.filter((m) => m.endsWith(":AK9"));
    await waitFor(() => real().length === 3, 1_000, "three deliveries");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(real().sort(), ["0:AK9", "1:AK9", "2:AK9"], "once each");
    for (const off of offs) off();
  });
}
