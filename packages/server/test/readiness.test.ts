import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeReadiness, type PoolStatus } from "../src/index.js";

const CONFIG = { source: "/etc/osp.yaml", generation: 1, loadedAt: "2026-01-01T00:00:00.000Z" };

function pool(listening: number, failed = 0, redis: "up" | "down" | null = "up"): PoolStatus {
  return {
    expected: 2,
    listening,
    failed,
    port: 6190,
    workers: Array.from({ length: listening }, (_, slot) => ({
      slot,
      pid: 100 + slot,
      state: "listening" as const,
      generation: 1,
      redis: redis === null ? null : { state: redis, lastError: redis === "down" ? "ECONNREFUSED" : null },
    })),
  };
}

describe("readiness", () => {
  test("is ready only when every expected worker listens", () => {
    assert.equal(describeReadiness(pool(1), false, CONFIG).ready, false);
    assert.equal(describeReadiness(pool(1), false, CONFIG).body.status, "starting");
    const ready = describeReadiness(pool(2), false, CONFIG);
    assert.equal(ready.ready, true);
    assert.equal(ready.body.status, "ready");
    assert.deepEqual(ready.body.workers.expected, 2);
    assert.deepEqual(ready.body.config, CONFIG);
  });

  test("is not ready while draining, nor with a worker given up after a crash loop", () => {
    assert.deepEqual(
      [describeReadiness(pool(2), true, CONFIG).ready, describeReadiness(pool(2), true, CONFIG).body.status],
      [false, "draining"],
    );
    const degraded = describeReadiness(pool(1, 1), false, CONFIG);
    assert.deepEqual([degraded.ready, degraded.body.status], [false, "degraded"]);
  });

  test("stays ready with Redis down, and reports each worker's Redis state", () => {
    const down = describeReadiness(pool(2, 0, "down"), false, CONFIG);
    assert.equal(down.ready, true);
    assert.deepEqual(down.body.redis, [
      { slot: 0, pid: 100, state: "down", lastError: "ECONNREFUSED" },
      { slot: 1, pid: 101, state: "down", lastError: "ECONNREFUSED" },
    ]);
    assert.equal(describeReadiness(pool(2, 0, null), false, CONFIG).body.redis[0]?.state, "unknown");
  });
});
