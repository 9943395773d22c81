/**
 * Signature checks and signed-body hashing on verify-pool threads (`verify.mode: pool`), end to end: the
 * same answers as inline, and a body that fails its hash never completes upstream.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { errorCode, rawRequest, rejectsWith, type Stack, signAsAlice, startStack } from "./harness.js";

const sha256 = (b: Buffer | Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("osp with verify.mode: pool", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "verify: { mode: pool, threads: 1 }" });
  });
  after(async () => {
    await stack.close();
  });

  /** The stored object's length upstream, `null` when absent. */
  async function storedLength(key: string): Promise<number | null> {
    try {
      const head = await stack.direct().send(new HeadObjectCommand({ Bucket: "data", Key: key }));
      return head.ContentLength ?? null;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  test("a 12 MiB upload from the SDK (aws-chunked with a trailing checksum) round-trips byte for byte", async () => {
    const body = randomBytes(12 * 1024 * 1024);
    const s3 = stack.client();
    let pooledTasks = 0;
    const count = (): void => {
      pooledTasks += 1;
    };
    diagnosticsChannel.subscribe("osp:verify:pool", count);
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "pool/sdk.bin", Body: body }));
    diagnosticsChannel.unsubscribe("osp:verify:pool", count);
    assert.ok(pooledTasks >= 12, `the body went through the pool (${pooledTasks} tasks)`);
    const got = await s3.send(new GetObjectCommand({ Bucket: "data", Key: "pool/sdk.bin" }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
  });

  test("a hex-signed 9 MiB body is stored when its hash matches and refused, unstored, when it does not", async () => {
    const body = randomBytes(9 * 1024 * 1024);
    const put = (path: string, declared: string) =>
      rawRequest(stack.endpoint, {
        method: "PUT",
        path,
        headers: signAsAlice(stack.endpoint, "PUT", path, [["content-length", String(body.length)]], declared)
          .headers,
        body,
      });
    const good = await put("/data/pool/hex-good", sha256(body));
    assert.equal(good.status, 200, good.body);
    assert.equal(await storedLength("pool/hex-good"), body.length);
    const bad = await put("/data/pool/hex-bad", sha256(Buffer.from("something else")));
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.body), "XAmzContentSHA256Mismatch");
    // The upstream never got the whole body (s3rver keeps the bytes that arrived before the cut; radosgw, like
    // S3, keeps nothing: see faults.test.ts).
    const kept = await storedLength("pool/hex-bad");
    assert.ok(kept === null || kept < body.length, `the upstream holds ${kept} of ${body.length} bytes`);
  });

  test("header signatures checked on a thread give the same answers", async () => {
    const wrong = stack.client({ accessKeyId: "ALICEACCESSKEY01", secretAccessKey: "not-alices-secret-000" });
    await rejectsWith(
      wrong.send(new GetObjectCommand({ Bucket: "data", Key: "pool/sdk.bin" })),
      "SignatureDoesNotMatch",
      403,
    );
    const head = await stack.client().send(new HeadObjectCommand({ Bucket: "data", Key: "pool/sdk.bin" }));
    assert.equal(head.ContentLength, 12 * 1024 * 1024);
  });
});
