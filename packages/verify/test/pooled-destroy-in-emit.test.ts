/**
 * A pooled body destroyed from inside its own emit (what the gateway does when the upstream body refuses
 * bytes synchronously): nothing more is forwarded, and the lane's queue reservation is given back once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createVerifyPool, type PooledBodyVerifier } from "../src/index.js";
import { S3Error } from "../src/s3-error.js";
import { createRandom, hexCase } from "./support/bodies.js";

const PAYLOAD = createRandom(77).bytes(1000);
const BODY = hexCase("hex", PAYLOAD);

describe("destroy() called from inside emit (a synchronous upstream failure)", () => {
  it("forwards nothing more once destroyed from emit: not the rest of the batch, not the held-back tail", async () => {
    const pool = createVerifyPool({ mode: "pool", threads: 1, batchBytes: 8192, windowBytes: 8192 });
    try {
      const verifier = pool.createBodyVerifier(BODY.spec, PAYLOAD.length) as PooledBodyVerifier;
      assert.ok("pooled" in verifier);
      let afterDestroy = 0;
      let destroyed = false;
      const emit = (data: Buffer): void => {
        if (destroyed) {
          afterDestroy += data.length;
          return;
        }
        // What the gateway's emit does when UpstreamBody.write() fails synchronously: the exchange fails and
        // done() calls pooledVerifier.destroy(), all inside this call.
        destroyed = true;
        verifier.destroy();
      };
      verifier.write(Buffer.from(PAYLOAD), emit);
      await assert.rejects(verifier.end(emit), (e) => e instanceof S3Error && e.code === "InternalError");
      assert.equal(destroyed, true);
      assert.equal(
        afterDestroy,
        0,
        `destroy() promises "nothing more is emitted", yet ${afterDestroy} byte(s) (the held-back tail) followed`,
      );
    } finally {
      await pool.close();
    }
  });

  it("gives its lane's queue reservation back once, so the pool still keeps a second body inline", async () => {
    // Window = batch: 1 task per body + 1 to close it = 2 reserved entries; maxQueue 3 holds one body.
    const pool = createVerifyPool({
      mode: "pool",
      threads: 1,
      batchBytes: 8192,
      windowBytes: 8192,
      maxQueue: 3,
    });
    const opened: PooledBodyVerifier[] = [];
    try {
      const verifier = pool.createBodyVerifier(BODY.spec, PAYLOAD.length) as PooledBodyVerifier;
      assert.ok("pooled" in verifier);
      let destroyed = false;
      const emit = (): void => {
        if (destroyed) return;
        destroyed = true;
        verifier.destroy();
      };
      verifier.write(Buffer.from(PAYLOAD), emit);
      await verifier.end(emit).catch(() => {});
      // The body settled; its 2 entries are free again: exactly one new body fits, the next stays inline.
      const first = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
      const second = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
      for (const v of [first, second]) if ("pooled" in v) opened.push(v);
      assert.equal("pooled" in first, true);
      assert.equal(
        "pooled" in second,
        false,
        "onSettled ran twice (destroy() from emit, then the last result's #settle()): the lane's reservation went negative",
      );
    } finally {
      for (const v of opened) v.destroy();
      await pool.close();
    }
  });
});
