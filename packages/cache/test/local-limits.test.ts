import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedExpiringMap, type Expiring, LocalLimits } from "../src/local-limits.js";

const live = (): Expiring => ({ expiresAtMs: Number.POSITIVE_INFINITY });

test("a flood of new keys keeps the map at its bound, and the newest keys stay", () => {
  const map = new BoundedExpiringMap<Expiring>(100);
  for (let i = 0; i < 10_000; i++) {
    map.set(`k${i}`, live(), 0);
    assert.ok(map.size <= 100, `${map.size} entries after key ${i}`);
    assert.ok(map.get(`k${i}`, 0) !== undefined, `k${i} just stored`);
  }
  assert.equal(map.size, 100);
  assert.ok(map.get("k9999", 0) !== undefined && map.get("k9998", 0) !== undefined);
  assert.equal(map.get("k0", 0), undefined, "an early key was let go");
});

test("expired entries make room before any live one leaves", () => {
  const map = new BoundedExpiringMap<Expiring>(100);
  for (let i = 0; i < 100; i++) map.set(`old${i}`, { expiresAtMs: 10 }, 0);
  // Some live keys first, interleaved with the hand's passes, then the expired ones run out.
  for (let i = 0; i < 100; i++) map.set(`new${i}`, live(), 20);
  for (let i = 0; i < 100; i++) assert.ok(map.get(`new${i}`, 20) !== undefined, `new${i} kept`);
  assert.equal(map.size, 100);
});

test("counters and buckets answer as before once their maps are full", () => {
  const limits = new LocalLimits(100);
  for (let i = 0; i < 1_000; i++) assert.equal(limits.increment(`url-${i}`, 60_000, 0), 1);
  assert.equal(limits.increment("url-999", 60_000, 0), 2, "the newest counter counts on");
  for (let i = 0; i < 1_000; i++) assert.equal(limits.takeToken(`ip-${i}`, 1, 1, 0), true);
  assert.equal(limits.takeToken("ip-999", 1, 1, 0), false, "the newest bucket is empty");
  assert.equal(limits.takeToken("ip-999", 1, 1, 1_000), true, "and refills at its rate");
});
