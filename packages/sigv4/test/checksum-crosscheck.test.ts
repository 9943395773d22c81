/**
 * CRC32C and CRC64NVME against the implementations the AWS SDK for JS v3 itself uses
 * (`@aws-crypto/crc32c`, `@aws-sdk/crc64-nvme`), on random data and random cuts.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c } from "@aws-crypto/crc32c";
import { Crc64Nvme } from "@aws-sdk/crc64-nvme";
import { createChecksum } from "../src/index.js";
import { createRandom } from "./chunked-helpers.js";

function ours(algorithm: "CRC32C" | "CRC64NVME", data: Buffer, cut: number): Buffer {
  const checksum = createChecksum(algorithm);
  checksum.update(data.subarray(0, cut));
  checksum.update(data.subarray(cut));
  return Buffer.from(checksum.digestBase64(), "base64");
}

describe("CRC32C and CRC64NVME agree with the AWS SDK's implementations", () => {
  const seed = 20250115;
  const random = createRandom(seed);
  const samples = Array.from({ length: 300 }, (_, i) => random.bytes(i < 100 ? i : random.int(70_000)));

  it(`CRC32C equals @aws-crypto/crc32c on 300 random inputs (seed ${seed})`, () => {
    for (const data of samples) {
      const expected = Buffer.alloc(4);
      expected.writeUInt32BE(crc32c(data) >>> 0);
      assert.deepEqual(ours("CRC32C", data, random.int(data.length + 1)), expected, `length ${data.length}`);
    }
  });

  it(`CRC64NVME equals @aws-sdk/crc64-nvme on 300 random inputs (seed ${seed})`, async () => {
    for (const data of samples) {
      const reference = new Crc64Nvme();
      reference.update(data);
      const expected = Buffer.from(await reference.digest());
      assert.deepEqual(
        ours("CRC64NVME", data, random.int(data.length + 1)),
        expected,
        `length ${data.length}`,
      );
    }
  });
});
