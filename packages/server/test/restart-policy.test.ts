import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RestartPolicy } from "../src/index.js";

describe("restart policy", () => {
  test("doubles the delay from 100 ms on each crash and gives up on the sixth within 60 s", () => {
    const policy = new RestartPolicy();
    const delays = [0, 1_000, 2_000, 3_000, 4_000, 5_000].map((at) => policy.crashed(at));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, null]);
  });

  test("caps the delay at its maximum", () => {
    const policy = new RestartPolicy({
      initialDelayMs: 1_000,
      maxDelayMs: 3_000,
      maxCrashes: 10,
      windowMs: 60_000,
    });
    assert.deepEqual(
      [1, 2, 3, 4].map((at) => policy.crashed(at)),
      [1_000, 2_000, 3_000, 3_000],
    );
  });

  test("forgets crashes older than the window, so a worker that ran a while starts again from 100 ms", () => {
    const policy = new RestartPolicy();
    for (let i = 0; i < 5; i++) policy.crashed(i);
    assert.equal(policy.crashed(60_005), 100);
    assert.equal(policy.recentCrashes, 1);
  });
});
