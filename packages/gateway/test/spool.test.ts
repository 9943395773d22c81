import assert from "node:assert/strict";
import { test } from "node:test";
import { SpoolArena } from "../src/pipeline/spool-arena.js";

test("buffers are reused by size and the arena never owns more than its total", () => {
  const arena = new SpoolArena(1024 * 1024, 2 * 1024 * 1024);
  assert.equal(arena.acquire(1024 * 1024 + 1), null, "over the body limit");
  const a = arena.acquire(1000)!;
  assert.equal(a.length, 64 * 1024);
  const b = arena.acquire(1024 * 1024)!;
  assert.equal(b.length, 1024 * 1024);
  arena.release(b, true);
  assert.equal(arena.acquire(600 * 1024), b, "the free 1 MiB buffer is lent again");
  // 64 KiB + 1 MiB owned: a second 1 MiB does not fit in 2 MiB...
  assert.equal(arena.acquire(1024 * 1024), null);
  arena.release(b, true);
  arena.release(a, true);
  // ...until free buffers of other sizes are dropped to make room.
  const c = arena.acquire(2 * 1024 * 1024, true)!;
  assert.equal(c.length, 2 * 1024 * 1024);
  assert.equal(arena.ownedBytes, 2 * 1024 * 1024);
  // A buffer a socket may still read is forgotten, not reused.
  arena.release(c, false);
  assert.equal(arena.ownedBytes, 0);
  assert.notEqual(arena.acquire(2 * 1024 * 1024, true), c);
});
