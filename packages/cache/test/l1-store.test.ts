import assert from "node:assert/strict";
import { test } from "node:test";
import { entryBytes, estimateBytes, L1Entry, L1Store } from "../src/l1-store.js";

const entry = (value: unknown) =>
  new L1Entry(value, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0, null);

/** A client credential as the gateway caches it: about 400 bytes by the estimate. */
const credential = (i: number) => ({
  accessKeyId: `AKIA${String(i).padStart(16, "0")}`,
  secretAccessKey: `secret-${String(i).padStart(33, "0")}`,
  principal: { name: `user-${i}`, groups: ["readers"] },
});

test("the estimate grows with what a value holds", () => {
  assert.ok(estimateBytes("x".repeat(1000)) > 1000);
  assert.ok(estimateBytes("é".repeat(1000)) < 1100, "Latin-1: one byte each");
  assert.ok(estimateBytes("€".repeat(1000)) > 2000, "past U+00FF: two bytes each");
  assert.ok(estimateBytes({ a: "x".repeat(1000) }) > estimateBytes("x".repeat(1000)));
  assert.ok(estimateBytes([1, 2, 3]) > estimateBytes([]));
  assert.ok(estimateBytes(Buffer.alloc(4096)) >= 4096);
  assert.ok(estimateBytes(credential(1)) > 150 && estimateBytes(credential(1)) < 600);
  // Deep nesting is bounded, not walked forever.
  let deep: unknown = "leaf";
  for (let i = 0; i < 1000; i++) deep = { deep };
  assert.ok(estimateBytes(deep) < 2000);
  // Maps, sets and raw buffers count what they hold.
  assert.ok(estimateBytes(new Map([["k", "x".repeat(1000)]])) > 1000);
  assert.ok(estimateBytes(new Set(["x".repeat(1000)])) > 1000);
  assert.ok(estimateBytes(new ArrayBuffer(4096)) >= 4096);
});

test("a wide value that holds itself is walked a bounded number of times", () => {
  // Without a bound, 300 slots per level over four levels are 300^4 visits (about a minute).
  const wide: unknown[] = [];
  for (let i = 0; i < 300; i++) wide.push(wide);
  const bytes = estimateBytes(wide);
  assert.ok(Number.isFinite(bytes) && bytes > 300 * 8, String(bytes));
  assert.ok(bytes < 300 * 300 * 300, String(bytes));
});

test("bounds the bytes of all entries, evicting the oldest unreferenced first", () => {
  const perEntry = entryBytes("credential:AKIA0000000000000000", credential(0));
  const store = new L1Store(1_000_000, perEntry * 10);
  for (let i = 0; i < 10; i++)
    store.set(`credential:AKIA${String(i).padStart(16, "0")}`, entry(credential(i)));
  assert.equal(store.size, 10);
  store.get("credential:AKIA0000000000000000"); // referenced: gets a second chance
  for (let i = 10; i < 1000; i++) {
    store.set(`credential:AKIA${String(i).padStart(16, "0")}`, entry(credential(i)));
    assert.ok(store.bytes <= perEntry * 10, `${store.bytes} over the bound after entry ${i}`);
  }
  assert.ok(store.size >= 9 && store.size <= 10, `${store.size} entries`); // later ids' names are longer
  assert.ok(store.get(`credential:AKIA${String(999).padStart(16, "0")}`) !== undefined, "the newest is kept");
  assert.equal(store.get(`credential:AKIA${String(1).padStart(16, "0")}`), undefined, "an old one is gone");
});

test("large values take the room of many small ones", () => {
  const store = new L1Store(1_000_000, 64 * 1024);
  for (let i = 0; i < 200; i++) store.set(`small:${i}`, entry(i));
  assert.equal(store.size, 200);
  store.set("big", entry("x".repeat(40 * 1024)));
  assert.ok(store.get("big") !== undefined);
  assert.ok(store.size < 200, "small entries were evicted to make room");
  assert.ok(store.bytes <= 64 * 1024);
});

test("an entry larger than the whole bound is not stored and evicts nothing", () => {
  const store = new L1Store(1_000, 4096);
  store.set("a", entry("small"));
  store.set("huge", entry("x".repeat(10_000)));
  assert.equal(store.get("huge"), undefined);
  assert.ok(store.get("a") !== undefined);
});

test("replacing, deleting and clearing keep the count of bytes exact", () => {
  const store = new L1Store(1_000, 1_000_000);
  store.set("k", entry("x".repeat(100)));
  const one = store.bytes;
  store.set("k", entry("x".repeat(1000)));
  assert.equal(store.size, 1);
  assert.equal(store.bytes, one + 900);
  store.set("j", entry("y"));
  store.delete("k");
  store.delete("k");
  assert.equal(store.bytes, entryBytes("j", "y"));
  store.clear();
  assert.equal(store.bytes, 0);
  assert.equal(store.size, 0);
});

test("negative entries hold at most an eighth of the bytes, newest kept: a flood of them evicts nothing else", () => {
  const perEntry = entryBytes("credential:AKIA0000000000000000", credential(0));
  const store = new L1Store(1_000_000, perEntry * 20);
  for (let i = 0; i < 10; i++)
    store.set(`credential:AKIA${String(i).padStart(16, "0")}`, entry(credential(i)));
  for (let i = 0; i < 10_000; i++) store.set(`credential:UNKNOWN${String(i).padStart(13, "0")}`, entry(null));
  for (let i = 0; i < 10; i++)
    assert.ok(store.get(`credential:AKIA${String(i).padStart(16, "0")}`), `credential ${i}`);
  assert.ok(
    store.negativeBytes > 0 && store.negativeBytes <= (perEntry * 20) / 8,
    String(store.negativeBytes),
  );
  // The newest unknown keys are the ones remembered.
  assert.ok(store.get(`credential:UNKNOWN${String(9_999).padStart(13, "0")}`));
  assert.equal(store.get(`credential:UNKNOWN${String(0).padStart(13, "0")}`), undefined);
  // Counted out exactly as they leave.
  for (let i = 0; i < 10_000; i++) store.delete(`credential:UNKNOWN${String(i).padStart(13, "0")}`);
  assert.equal(store.negativeBytes, 0);
  store.clear();
  assert.equal(store.bytes, 0);
});

test("the entry bound still holds when bytes leave room", () => {
  const store = new L1Store(5, 1_000_000);
  for (let i = 0; i < 50; i++) store.set(`k${i}`, entry(i));
  assert.equal(store.size, 5);
});

test("rejects bounds that are not positive integers", () => {
  assert.throws(() => new L1Store(0), TypeError);
  assert.throws(() => new L1Store(10, 0), TypeError);
  assert.throws(() => new L1Store(10, 1.5), TypeError);
});

test("random sets, gets, deletes and clears leave no bytes counted once every id is deleted", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const perEntry = entryBytes("id:000", credential(0));
  for (let run = 0; run < 20; run++) {
    const store = new L1Store(50, perEntry * 30);
    for (let op = 0; op < 2_000; op++) {
      const id = `id:${String(random(100)).padStart(3, "0")}`;
      const kind = random(100);
      if (kind < 45) store.set(id, entry(random(3) === 0 ? null : credential(random(1000))));
      else if (kind < 80) store.get(id);
      else if (kind < 99) store.delete(id);
      else store.clear();
      assert.ok(store.size <= 50 && store.bytes <= perEntry * 30 && store.negativeBytes <= store.bytes);
    }
    for (let i = 0; i < 100; i++) store.delete(`id:${String(i).padStart(3, "0")}`);
    assert.equal(store.size, 0);
    assert.equal(store.bytes, 0);
    assert.equal(store.negativeBytes, 0);
  }
});

/**
 * The store's eviction order against a plain model of it: second chance over insertion order (a hit entry
 * is unmarked and moved to the end once instead of leaving), negatives oldest first within their share.
 */
class ModelStore {
  readonly order: string[] = [];
  readonly negatives: string[] = [];
  readonly entries = new Map<string, { bytes: number; negative: boolean; referenced: boolean }>();
  bytes = 0;
  negativeBytes = 0;
  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}
  get maxNegativeBytes() {
    return Math.floor(this.maxBytes / 8);
  }
  get(id: string) {
    const e = this.entries.get(id);
    if (e !== undefined) e.referenced = true;
  }
  delete(id: string) {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.entries.delete(id);
    this.order.splice(this.order.indexOf(id), 1);
    this.bytes -= e.bytes;
    if (e.negative) {
      this.negativeBytes -= e.bytes;
      this.negatives.splice(this.negatives.indexOf(id), 1);
    }
  }
  set(id: string, value: unknown) {
    this.delete(id);
    const bytes = entryBytes(id, value);
    const negative = value === null;
    if (bytes > this.maxBytes || (negative && bytes > this.maxNegativeBytes)) return;
    while (negative && this.negativeBytes + bytes > this.maxNegativeBytes) this.delete(this.negatives[0]!);
    while (
      this.order.length > 0 &&
      (this.order.length >= this.maxEntries || this.bytes + bytes > this.maxBytes)
    ) {
      const oldest = this.order.shift()!;
      const e = this.entries.get(oldest)!;
      if (e.referenced) {
        e.referenced = false;
        this.order.push(oldest);
      } else {
        this.order.unshift(oldest);
        this.delete(oldest);
      }
    }
    this.entries.set(id, { bytes, negative, referenced: false });
    this.order.push(id);
    this.bytes += bytes;
    if (negative) {
      this.negatives.push(id);
      this.negativeBytes += bytes;
    }
  }
}

test("evicts in the order of second chance over insertion order, however long it runs", () => {
  // xorshift32, its high bits scaled: the low bits of a plain LCG repeat too soon for ids and operations.
  let seed = 11;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return Math.floor(((seed >>> 0) / 2 ** 32) * n);
  };
  const perEntry = entryBytes("id:0000", credential(0));
  for (let run = 0; run < 10; run++) {
    const store = new L1Store(100, perEntry * 60);
    const model = new ModelStore(100, perEntry * 60);
    for (let op = 0; op < 5_000; op++) {
      const id = `id:${String(random(300)).padStart(4, "0")}`;
      const kind = random(100);
      if (kind < 55) {
        const value = random(4) === 0 ? null : credential(random(1000));
        store.set(id, entry(value));
        model.set(id, value);
      } else if (kind < 90) {
        store.get(id);
        model.get(id);
      } else if (kind < 99 || random(20) > 0) {
        store.delete(id);
        model.delete(id);
      } else {
        store.clear();
        for (const kept of [...model.order]) model.delete(kept);
      }
      assert.deepEqual(
        [store.size, store.bytes, store.negativeBytes],
        [model.order.length, model.bytes, model.negativeBytes],
        `run ${run}, operation ${op}`,
      );
    }
    for (let i = 0; i < 300; i++) {
      const id = `id:${String(i).padStart(4, "0")}`;
      assert.equal(store.get(id) !== undefined, model.entries.has(id), id);
    }
  }
});
