import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  createChecksum,
  createPayloadVerifier,
  createPayloadVerifyStream,
  HELD_BACK_BYTES,
  type PayloadVerifierOptions,
  parseContentMd5,
} from "../src/index.js";
import { assertS3Error, createRandom, feed, randomCuts } from "./chunked-helpers.js";

const DATA = createRandom(21).bytes(50_000);
const sha256Hex = (data: Buffer): string => createHash("sha256").update(data).digest("hex");
const md5Base64 = (data: Buffer): string => createHash("md5").update(data).digest("base64");
function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return checksum.digestBase64();
}

const ALL_CHECKS: PayloadVerifierOptions = {
  sha256Hex: sha256Hex(DATA),
  contentMd5Base64: md5Base64(DATA),
  checksums: CHECKSUM_ALGORITHMS.map((algorithm) => ({ algorithm, base64: checksumOf(algorithm, DATA) })),
  expectedLength: DATA.length,
};

describe("createPayloadVerifier", () => {
  it("passes a body whose sha256, Content-MD5, every checksum and length match, holding back its last byte until end()", () => {
    const result = feed(createPayloadVerifier(ALL_CHECKS), DATA, [1, 999, 30_000]);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(DATA));
    assert.equal(result.emittedBeforeEnd, DATA.length - HELD_BACK_BYTES);
  });

  it("gives its verdict from write() as soon as the last expected byte arrived", () => {
    const verifier = createPayloadVerifier(ALL_CHECKS);
    verifier.write(DATA, () => {});
    assert.equal(verifier.complete, true);
    assert.equal(verifier.heldBackBytes, HELD_BACK_BYTES);
    const bad = createPayloadVerifier({ ...ALL_CHECKS, sha256Hex: sha256Hex(Buffer.from("x")) });
    assert.throws(
      () => bad.write(DATA, () => {}),
      (e) => assertS3Error(e, "XAmzContentSHA256Mismatch", 400) !== undefined,
    );
  });

  it("does not care how a small body is cut, at every byte boundary, with and without a known length", () => {
    const small = DATA.subarray(0, 40);
    for (let cut = 0; cut <= small.length; cut++) {
      for (const known of [true, false]) {
        const result = feed(
          createPayloadVerifier({
            sha256Hex: sha256Hex(small),
            checksums: [{ algorithm: "CRC64NVME", base64: checksumOf("CRC64NVME", small) }],
            ...(known ? { expectedLength: small.length } : {}),
          }),
          small,
          [cut],
        );
        assert.equal(result.error, undefined, `cut ${cut}`);
        assert.ok(result.output.equals(small));
        assert.equal(result.emittedBeforeEnd, small.length - HELD_BACK_BYTES, `cut ${cut}, known ${known}`);
      }
    }
  });

  it("accepts upper-case hex in x-amz-content-sha256", () => {
    assert.equal(
      feed(createPayloadVerifier({ sha256Hex: sha256Hex(DATA).toUpperCase() }), DATA).error,
      undefined,
    );
  });

  it("refuses a body whose sha256 differs with 400 XAmzContentSHA256Mismatch and both hashes, never releasing the tail", () => {
    const claimed = sha256Hex(Buffer.from("other"));
    for (const expectedLength of [DATA.length, undefined]) {
      const result = feed(
        createPayloadVerifier({
          sha256Hex: claimed,
          ...(expectedLength === undefined ? {} : { expectedLength }),
        }),
        DATA,
        randomCuts(createRandom(2), DATA.length, 10),
      );
      const error = assertS3Error(result.error, "XAmzContentSHA256Mismatch", 400);
      assert.deepEqual(error.fields, [
        ["ClientComputedContentSHA256", claimed],
        ["S3ComputedContentSHA256", sha256Hex(DATA)],
      ]);
      assert.equal(result.output.length, DATA.length - HELD_BACK_BYTES);
    }
  });

  it("refuses a Content-MD5 mismatch with 400 BadDigest, ExpectedDigest in hex and CalculatedDigest in base64", () => {
    const claimed = md5Base64(Buffer.from("other"));
    const result = feed(
      createPayloadVerifier({ contentMd5Base64: claimed, expectedLength: DATA.length }),
      DATA,
    );
    const error = assertS3Error(result.error, "BadDigest", 400);
    assert.deepEqual(error.fields, [
      ["ExpectedDigest", Buffer.from(claimed, "base64").toString("hex")],
      ["CalculatedDigest", md5Base64(DATA)],
    ]);
    assert.ok(result.output.length < DATA.length);
  });

  for (const algorithm of CHECKSUM_ALGORITHMS) {
    it(`refuses an x-amz-checksum-${algorithm.toLowerCase()} mismatch with 400 BadDigest`, () => {
      const result = feed(
        createPayloadVerifier({
          checksums: [{ algorithm, base64: checksumOf(algorithm, Buffer.from("x")) }],
        }),
        DATA,
        [100],
      );
      const error = assertS3Error(result.error, "BadDigest", 400);
      const name = algorithm.startsWith("SHA") ? algorithm.toLowerCase() : algorithm;
      assert.equal(error.message, `The ${name} you specified did not match the calculated checksum.`);
      assert.ok(result.output.length < DATA.length);
    });
  }

  it("refuses fewer bytes than expected with 400 IncompleteBody at end()", () => {
    const result = feed(createPayloadVerifier({ expectedLength: DATA.length + 10 }), DATA);
    assertS3Error(result.error, "IncompleteBody", 400);
    assert.ok(result.output.length < DATA.length + 10);
  });

  it("refuses more bytes than expected with 400 IncompleteBody from write()", () => {
    const verifier = createPayloadVerifier({ expectedLength: 10 });
    const emitted: Buffer[] = [];
    assert.throws(
      () => verifier.write(DATA.subarray(0, 11), (d) => emitted.push(d)),
      (e) => assertS3Error(e, "IncompleteBody", 400) !== undefined,
    );
    assert.equal(emitted.length, 0);
    assert.throws(
      () => verifier.end(() => {}),
      (e) => assertS3Error(e, "IncompleteBody", 400) !== undefined,
    );
  });

  it("checks a zero-length body at end(), where nothing can be held back", () => {
    const empty = Buffer.alloc(0);
    const ok = createPayloadVerifier({ sha256Hex: sha256Hex(empty), expectedLength: 0 });
    assert.equal(feed(ok, empty).error, undefined);
    const bad = feed(createPayloadVerifier({ sha256Hex: sha256Hex(DATA), expectedLength: 0 }), empty);
    assertS3Error(bad.error, "XAmzContentSHA256Mismatch", 400);
    assert.equal(bad.output.length, 0);
  });

  it("refuses a malformed Content-MD5 with 400 InvalidDigest before any byte", () => {
    for (const value of [
      "",
      "abc",
      "not base64 at all!!!!!==",
      md5Base64(DATA).slice(0, -2),
      "AAAAAAAAAAAAAAAAAAAAAB==",
      `${md5Base64(DATA)}=`,
    ]) {
      assert.throws(
        () => createPayloadVerifier({ contentMd5Base64: value }),
        (e) => assertS3Error(e, "InvalidDigest", 400) !== undefined,
        value,
      );
      assert.throws(
        () => parseContentMd5(value),
        (e) => assertS3Error(e, "InvalidDigest", 400) !== undefined,
        value,
      );
    }
    assert.deepEqual(parseContentMd5(md5Base64(DATA)), createHash("md5").update(DATA).digest());
  });

  it("refuses a malformed x-amz-checksum-* value with 400 InvalidRequest before any byte", () => {
    assert.throws(
      () => createPayloadVerifier({ checksums: [{ algorithm: "CRC32", base64: "pRf+emrnL+A=" }] }),
      (e) =>
        assertS3Error(e, "InvalidRequest", 400).message ===
        "Value for x-amz-checksum-crc32 header is invalid.",
    );
  });
});

describe("createPayloadVerifyStream", () => {
  async function run(options: PayloadVerifierOptions): Promise<{ output: Buffer; error: unknown }> {
    const parts: Buffer[] = [];
    const pieces = [DATA.subarray(0, 20_000), DATA.subarray(20_000)];
    try {
      await pipeline(
        Readable.from(pieces),
        createPayloadVerifyStream(options),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            parts.push(chunk);
            callback();
          },
        }),
      );
      return { output: Buffer.concat(parts), error: undefined };
    } catch (error) {
      return { output: Buffer.concat(parts), error };
    }
  }

  it("streams a verified body through unchanged", async () => {
    const result = await run(ALL_CHECKS);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(DATA));
  });

  it("errors the pipeline on a mismatch without the last byte reaching the sink", async () => {
    const result = await run({ ...ALL_CHECKS, contentMd5Base64: md5Base64(Buffer.from("x")) });
    assertS3Error(result.error, "BadDigest", 400);
    assert.ok(result.output.length < DATA.length);
  });
});
