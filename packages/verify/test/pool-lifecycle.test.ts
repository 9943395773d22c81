import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { authenticateRequest, SigningKeyCache, signRequest } from "@osp/sigv4";
import { createVerifyPoolWithWorker } from "../src/create-verify-pool.js";
import {
  createVerifyPool,
  resolveThreadCount,
  VERIFY_FALLBACK_CHANNEL,
  VERIFY_POOL_CHANNEL,
  type VerifyFallbackEvent,
  type VerifyMode,
  type VerifyPoolEvent,
} from "../src/index.js";
import { S3Error } from "../src/s3-error.js";
import { createRandom, feed, hexCase } from "./support/bodies.js";

const PAYLOAD = createRandom(3).bytes(64_000);
const BODY = hexCase("hex", PAYLOAD);

describe("the verify pool's life", () => {
  it("lets a body in flight finish after close(), and runs new work inline meanwhile", async () => {
    const pool = createVerifyPool({ mode: "pool", threads: 1, batchBytes: 8192 });
    const verifier = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
    assert.ok("pooled" in verifier);
    const parts: Buffer[] = [];
    const emit = (data: Buffer): void => void parts.push(Buffer.from(data));
    verifier.write(Buffer.from(PAYLOAD.subarray(0, 30_000)), emit);
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });
    assert.equal(
      "pooled" in pool.createBodyVerifier(BODY.spec, PAYLOAD.length),
      false,
      "a new body stays inline",
    );
    verifier.write(Buffer.from(PAYLOAD.subarray(30_000)), emit);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(closed, false, "close() waits for the body");
    await verifier.end(emit);
    assert.ok(Buffer.concat(parts).equals(PAYLOAD));
    await closing;
    assert.equal(closed, true);
    assert.equal(pool.close(), pool.close(), "close() is idempotent");
  });

  it("destroys at close() a pooled body nobody wrote to, instead of waiting for it forever", async () => {
    const pool = createVerifyPool({ mode: "pool", threads: 1 });
    const unused = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
    assert.ok("pooled" in unused);
    await pool.close();
    assert.equal(unused.failure?.code, "InternalError");
    assert.throws(
      () => unused.write(Buffer.alloc(1), () => {}),
      (e) => e === unused.failure,
    );
  });

  it("keeps new bodies inline once the queue a thread reserved for bodies in flight is full", async () => {
    // Window = batch: one task per body + 1 to close it = 2 queue entries; maxQueue 3 holds one body.
    const pool = createVerifyPool({
      mode: "pool",
      threads: 1,
      batchBytes: 8192,
      windowBytes: 8192,
      maxQueue: 3,
    });
    try {
      const first = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
      const second = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
      assert.equal("pooled" in first, true);
      assert.equal("pooled" in second, false);
      // A caller that ignores write()'s false costs memory here, never a task the queue refuses.
      const result = await feed(first, BODY.wire, Array(64).fill(1000), PAYLOAD.length);
      assert.equal(result.error, null);
      assert.ok(result.output.equals(PAYLOAD));
      const third = pool.createBodyVerifier(BODY.spec, PAYLOAD.length);
      assert.ok("pooled" in third, "its entries came back");
      third.destroy(); // close() waits for every pooled body to settle
    } finally {
      await pool.close();
    }
  });

  it("publishes each pooled task's queue length and wait on osp:verify:pool while subscribed", async () => {
    const pool = createVerifyPool({ mode: "pool", threads: 2, batchBytes: 8192 });
    const events: VerifyPoolEvent[] = [];
    const listener = (event: unknown): void => void events.push(event as VerifyPoolEvent);
    diagnosticsChannel.subscribe(VERIFY_POOL_CHANNEL, listener);
    try {
      const cuts = Array(8).fill(8000);
      const bodies = [0, 1, 2].map(() =>
        feed(pool.createBodyVerifier(BODY.spec, PAYLOAD.length), BODY.wire, cuts, 64_000),
      );
      for (const result of await Promise.all(bodies)) assert.equal(result.error, null);
      // Per body: a task each time 8 KiB gathered (two 8000-byte pieces), 4 in all, and the end.
      assert.equal(events.length, 3 * 5);
      for (const event of events) {
        assert.ok(Number.isInteger(event.queueLength) && event.queueLength >= 0);
        assert.ok(event.waitSeconds >= 0 && event.waitSeconds < 10);
      }
      assert.ok(
        events.some((e) => e.queueLength > 0),
        "three bodies on two threads queue",
      );
    } finally {
      diagnosticsChannel.unsubscribe(VERIFY_POOL_CHANNEL, listener);
      await pool.close();
    }
  });

  it("fails a body whose thread died with a 500, redoes a signature inline, and the process lives on", async () => {
    const workerFile = new URL("./support/exiting-worker.js", import.meta.url).href;
    const pool = createVerifyPoolWithWorker({ mode: "pool", threads: 1, batchBytes: 8192 }, workerFile);
    try {
      const result = await feed(
        pool.createBodyVerifier(BODY.spec, PAYLOAD.length),
        BODY.wire,
        [64_000],
        64_000,
      );
      assert.equal(result.error?.code, "InternalError");
      assert.equal(result.output.length, 0);
      const nowMs = Date.UTC(2025, 0, 15, 12, 0, 0);
      const signed = signRequest({
        method: "GET",
        rawPath: "/b/k",
        rawQuery: "",
        headers: [["host", "s3.example.com"]],
        payloadHash: "UNSIGNED-PAYLOAD",
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "secret",
        region: "us-east-1",
        nowMs,
      });
      const facts = {
        method: "GET",
        rawPath: "/b/k",
        rawQuery: "",
        headers: [["host", "s3.example.com"] as const, ...signed.headersToAdd],
      };
      const auth = authenticateRequest(facts, { nowMs });
      assert.ok(auth !== null && !(auth instanceof S3Error));
      const fallbacks: VerifyFallbackEvent[] = [];
      const onFallback = (event: unknown) => fallbacks.push(event as VerifyFallbackEvent);
      diagnosticsChannel.subscribe(VERIFY_FALLBACK_CHANNEL, onFallback);
      try {
        const verdict = await pool.verifyRequest(auth, "secret", new SigningKeyCache());
        assert.equal(verdict.failure, null, "the inline redo passed");
      } finally {
        diagnosticsChannel.unsubscribe(VERIFY_FALLBACK_CHANNEL, onFallback);
      }
      assert.equal(fallbacks.length, 1, "the failed hand-off was published once");
      assert.ok(fallbacks[0]!.error.length > 0);
    } finally {
      await pool.close();
    }
  });
});

describe("verify options", () => {
  it("gives auto mode the CPUs no event loop uses, and pool mode at least one thread", () => {
    const table: ReadonlyArray<readonly [VerifyMode, number, number, number, number]> = [
      // mode, threads, processes, cpus → threads
      ["auto", 0, 2, 2, 0],
      ["auto", 0, 16, 16, 0],
      ["auto", 0, 1, 2, 1],
      ["auto", 0, 1, 16, 15],
      ["auto", 0, 4, 16, 3],
      ["auto", 3, 16, 16, 3],
      ["pool", 0, 2, 2, 1],
      ["pool", 0, 4, 16, 3],
      ["inline", 8, 1, 16, 0],
    ];
    for (const [mode, threads, processes, cpus, expected] of table) {
      assert.equal(
        resolveThreadCount(mode, threads, processes, cpus),
        expected,
        `${mode} ${threads}/${processes}/${cpus}`,
      );
    }
  });

  it("refuses options no pool can run with", () => {
    assert.throws(() => createVerifyPool({ mode: "fast" as "pool", threads: 1 }), RangeError);
    assert.throws(() => createVerifyPool({ mode: "pool", threads: -1 }), RangeError);
    assert.throws(() => createVerifyPool({ mode: "pool", threads: 1, batchBytes: 0 }), RangeError);
  });

  it("starts no thread in inline mode, nor in auto mode when every CPU runs an event loop", async () => {
    for (const pool of [
      createVerifyPool({ mode: "inline", threads: 4 }),
      createVerifyPool({ mode: "auto", threads: 0, processes: availableParallelism() }),
    ]) {
      assert.equal(pool.threads, 0);
      assert.equal("pooled" in pool.createBodyVerifier(BODY.spec, PAYLOAD.length), false);
      await pool.close();
    }
  });
});
