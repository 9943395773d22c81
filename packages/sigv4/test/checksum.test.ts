import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checkChecksumValue,
  checksumAlgorithmOfHeader,
  checksumHeaderName,
  createChecksum,
} from "../src/index.js";
import { assertS3Error, createRandom, readVectors } from "./chunked-helpers.js";

const CHECK_INPUT = Buffer.from("123456789", "latin1");
/** The catalogue check values (CRC RevEng) of "123456789", big-endian hex. */
const CHECK_VALUES: Partial<Record<ChecksumAlgorithm, string>> = {
  CRC32: "cbf43926",
  CRC32C: "e3069283",
  CRC64NVME: "ae8b14860a799888",
};

function digest(algorithm: ChecksumAlgorithm, ...parts: Uint8Array[]): string {
  const checksum = createChecksum(algorithm);
  for (const part of parts) checksum.update(part);
  return checksum.digestBase64();
}

describe("createChecksum", () => {
  it("gives the known values for the 66560 × 'a' payload of AWS's aws-chunked examples", () => {
    const expected = readVectors().payloadChecksumsFor66560a;
    const data = Buffer.alloc(66560, 0x61);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      assert.equal(digest(algorithm, data), expected[checksumHeaderName(algorithm)], algorithm);
    }
    assert.equal(digest("CRC32", data), "sK4Y7A==");
    assert.equal(digest("CRC32C", data), "sOO8/Q==");
    assert.equal(digest("CRC64NVME", data), "pRf+emrnL+A=");
  });

  it('gives the catalogue check value of "123456789" for each CRC', () => {
    for (const [algorithm, hex] of Object.entries(CHECK_VALUES)) {
      const value = Buffer.from(digest(algorithm as ChecksumAlgorithm, CHECK_INPUT), "base64").toString(
        "hex",
      );
      assert.equal(value, hex, algorithm);
    }
  });

  it("gives the value of the empty input without any update", () => {
    assert.equal(digest("CRC32"), "AAAAAA==");
    assert.equal(digest("CRC32C"), "AAAAAA==");
    assert.equal(digest("CRC64NVME"), "AAAAAAAAAAA=");
    assert.equal(digest("SHA256"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  });

  it("does not care how the data is cut, for every length up to 40 bytes and every cut", () => {
    const random = createRandom(7);
    const data = random.bytes(40);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      for (let length = 0; length <= data.length; length++) {
        const whole = digest(algorithm, data.subarray(0, length));
        for (let cut = 0; cut <= length; cut++) {
          assert.equal(
            digest(algorithm, data.subarray(0, cut), data.subarray(cut, length)),
            whole,
            `${algorithm} ${length}/${cut}`,
          );
        }
      }
    }
  });

  it("does not care how a large body is cut at random points", () => {
    const random = createRandom(11);
    const data = random.bytes(200_000);
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const whole = digest(algorithm, data);
      const parts: Buffer[] = [];
      for (let from = 0; from < data.length; ) {
        const to = Math.min(data.length, from + 1 + random.int(9000));
        parts.push(data.subarray(from, to));
        from = to;
      }
      assert.equal(digest(algorithm, ...parts), whole, algorithm);
    }
  });

  it("accepts a plain Uint8Array as well as a Buffer", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const algorithm of CHECKSUM_ALGORITHMS)
      assert.equal(digest(algorithm, bytes), digest(algorithm, Buffer.from(bytes)));
  });
});

describe("checksum header names", () => {
  it("names the x-amz-checksum-* header of each algorithm", () => {
    assert.deepEqual(CHECKSUM_ALGORITHMS.map(checksumHeaderName), [
      "x-amz-checksum-crc32",
      "x-amz-checksum-crc32c",
      "x-amz-checksum-crc64nvme",
      "x-amz-checksum-sha1",
      "x-amz-checksum-sha256",
    ]);
  });

  it("maps header names of any case back to the algorithm and other names to null", () => {
    assert.equal(checksumAlgorithmOfHeader("X-Amz-Checksum-CRC64NVME"), "CRC64NVME");
    assert.equal(checksumAlgorithmOfHeader("x-amz-checksum-sha1"), "SHA1");
    assert.equal(checksumAlgorithmOfHeader("x-amz-checksum-md5"), null);
    assert.equal(checksumAlgorithmOfHeader("x-amz-checksum-type"), null);
    assert.equal(checksumAlgorithmOfHeader("content-md5"), null);
  });
});

describe("checkChecksumValue", () => {
  it("accepts the canonical base64 of a digest of the right size", () => {
    checkChecksumValue("CRC32", "sK4Y7A==");
    checkChecksumValue("CRC64NVME", "pRf+emrnL+A=");
    checkChecksumValue("SHA1", "qOlv5ixdz2jRNhlSLmgH6iaTKRI=");
    checkChecksumValue("SHA256", "zWnTiHxq+SZLEA17dgIzEzXZqn4718MM3G1vS/uzyIg=");
  });

  it("refuses a value of the wrong size, non-base64 text or non-canonical padding with 400 InvalidRequest", () => {
    for (const [algorithm, value] of [
      ["CRC32", "pRf+emrnL+A="],
      ["CRC32C", "not base64!"],
      ["CRC32", "sK4Y7A"],
      ["SHA256", "sK4Y7A=="],
      ["CRC32", ""],
    ] as const) {
      assert.throws(
        () => checkChecksumValue(algorithm, value),
        (error) => {
          assertS3Error(error, "InvalidRequest", 400);
          return true;
        },
        `${algorithm} ${value}`,
      );
    }
  });
});
