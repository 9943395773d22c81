import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { HELD_BACK_BYTES } from "@osp/sigv4";
import { createVerifyPool, type PooledBodyVerifier } from "../src/index.js";
import { S3Error } from "../src/s3-error.js";
import { chunkedCase, createRandom, hexCase, tamper } from "./support/bodies.js";

const PAYLOAD = createRandom(11).bytes(100_000);
const pool = createVerifyPool({ mode: "pool", threads: 1, batchBytes: 4096, windowBytes: 8192 });
after(() => pool.close());

function pooled(spec: Parameters<typeof pool.createBodyVerifier>[0], bytes: number): PooledBodyVerifier {
  const verifier = pool.createBodyVerifier(spec, bytes);
  assert.ok("pooled" in verifier);
  return verifier;
}

const nextDrain = (v: PooledBodyVerifier): Promise<void> => new Promise((resolve) => v.onDrain(resolve));

describe("a pooled body verifier", () => {
  it("forwards every byte in order, pausing past its window, and the last one only once end() resolved", async () => {
    const c = hexCase("hex", PAYLOAD);
    const verifier = pooled(c.spec, PAYLOAD.length);
    const parts: Buffer[] = [];
    let pauses = 0;
    const emit = (data: Buffer): void => void parts.push(Buffer.from(data));
    for (let offset = 0; offset < PAYLOAD.length; offset += 3000) {
      if (!verifier.write(Buffer.from(PAYLOAD.subarray(offset, offset + 3000)), emit)) {
        pauses++;
        assert.ok(verifier.bufferedBytes >= 8192, "pauses only past the window");
        await nextDrain(verifier);
      }
    }
    while (verifier.bufferedBytes > 0) await new Promise((r) => setTimeout(r, 1));
    assert.ok(pauses > 0);
    assert.equal(Buffer.concat(parts).length, PAYLOAD.length - HELD_BACK_BYTES);
    assert.equal(verifier.complete, true, "the verdict passed, yet the tail waits for end()");
    await verifier.end(emit);
    assert.ok(Buffer.concat(parts).equals(PAYLOAD));
    assert.equal(verifier.decodedBytes, PAYLOAD.length);
  });

  it("reports a bad chunk signature once through onFailure, then throws it from write() and end()", async () => {
    const c = chunkedCase("chunked", PAYLOAD, 8192);
    const verifier = pooled(c.spec, PAYLOAD.length);
    const failures: S3Error[] = [];
    verifier.onFailure((error) => failures.push(error));
    const wire = tamper(c.wire, 20_000);
    let forwarded = 0;
    const emit = (data: Buffer): void => {
      forwarded += data.length;
    };
    for (let offset = 0; offset < 40_000; offset += 4096) {
      verifier.write(Buffer.from(wire.subarray(offset, offset + 4096)), emit);
    }
    while (verifier.failure === null) await new Promise((r) => setTimeout(r, 1));
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.code, "SignatureDoesNotMatch");
    assert.throws(
      () => verifier.write(Buffer.from(wire.subarray(40_000, 41_000)), emit),
      (e) => e === failures[0],
    );
    await assert.rejects(verifier.end(emit), (e) => e === failures[0]);
    assert.ok(forwarded < 20_000, "nothing of the batch with the bad chunk is forwarded");
  });

  it("stops a destroyed body: end() rejects, nothing more is forwarded, and the pool takes new bodies", async () => {
    const c = hexCase("hex", PAYLOAD);
    const verifier = pooled(c.spec, PAYLOAD.length);
    let forwarded = 0;
    const emit = (data: Buffer): void => {
      forwarded += data.length;
    };
    verifier.write(Buffer.from(PAYLOAD.subarray(0, 8000)), emit);
    const ended = verifier.end(emit);
    verifier.destroy();
    await assert.rejects(ended, (e) => e instanceof S3Error && e.code === "InternalError");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(forwarded, 0);
    const next = pooled(c.spec, PAYLOAD.length);
    next.write(Buffer.from(PAYLOAD), emit);
    await next.end(emit);
    assert.equal(forwarded, PAYLOAD.length);
  });

  it("sends the thread a copy and forwards the caller's own pieces, leaving every buffer intact", async () => {
    const small = PAYLOAD.subarray(0, 20_000);
    const c = hexCase("hex", small);
    const verifier = pooled(c.spec, small.length);
    const owned = Buffer.from(small.subarray(0, 10_000));
    const big = Buffer.from(small);
    const view = big.subarray(10_000);
    const forwarded: Buffer[] = [];
    const emit = (data: Buffer): void => void forwarded.push(data);
    verifier.write(owned, emit);
    verifier.write(view, emit);
    assert.equal(owned.length, 10_000, "the caller's buffer was detached");
    assert.ok(big.equals(small), "the shared memory is intact");
    await verifier.end(emit);
    assert.ok(Buffer.concat(forwarded).equals(small));
    // What came back released is a view of the caller's memory, not of a copy.
    assert.equal(forwarded[0]!.buffer, owned.buffer);
    assert.ok(forwarded.some((part) => part.buffer === big.buffer));
  });

  it("fails the body with a 500 when forwarding throws, and never forwards its tail", async () => {
    const c = hexCase("hex", PAYLOAD);
    const verifier = pooled(c.spec, PAYLOAD.length);
    let calls = 0;
    const emit = (): void => {
      calls++;
      throw new Error("upstream gone");
    };
    verifier.write(Buffer.from(PAYLOAD), emit);
    await assert.rejects(verifier.end(emit), (e) => e instanceof S3Error && e.code === "InternalError");
    assert.equal(calls, 1);
  });
});
