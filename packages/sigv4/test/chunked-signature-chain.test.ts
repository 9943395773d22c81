import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { ChunkSignatureChain, EMPTY_SHA256 } from "../src/chunked/chunk-signature-chain.js";
import { chunkStringToSign } from "../src/index.js";
import { createRandom } from "./chunked-helpers.js";

describe("ChunkSignatureChain (the JS HMAC of chunk signatures)", () => {
  it("equals createHmac over the chunk string-to-sign for random keys, scopes of every length mod 64, and chains", () => {
    const random = createRandom(42);
    for (let i = 0; i < 400; i++) {
      const key = random.bytes(random.int(151));
      const region = "r".repeat(i % 70) + (i % 7 === 0 ? "-é✓" : "");
      const scope = { date: "20250115", region, service: i % 2 === 0 ? "s3" : "service" };
      const amzDate = "20250115T101112Z";
      let previous = random.bytes(32).toString("hex");
      const chain = new ChunkSignatureChain(key, amzDate, scope, previous);
      assert.equal(chain.previousSignatureHex, previous);
      for (let c = 0; c < 4; c++) {
        const data = c === 3 ? EMPTY_SHA256 : random.bytes(32);
        const expected = createHmac("sha256", key)
          .update(chunkStringToSign(amzDate, scope, previous, data.toString("hex")), "utf8")
          .digest();
        const got = chain.next(data);
        assert.deepEqual(Buffer.from(got), expected, `case ${i}, chunk ${c}`);
        chain.accept(got);
        previous = expected.toString("hex");
        assert.equal(chain.previousSignatureHex, previous);
      }
    }
  });

  it("does not advance until accept(): the same data gives the same signature twice", () => {
    const chain = new ChunkSignatureChain(
      Buffer.alloc(32, 1),
      "20250115T101112Z",
      { date: "20250115", region: "us-east-1", service: "s3" },
      "a".repeat(64),
    );
    const first = Buffer.from(chain.next(EMPTY_SHA256));
    assert.deepEqual(Buffer.from(chain.next(EMPTY_SHA256)), first);
  });

  it("lower-cases an upper-case seed signature and refuses one that is not 64 hex characters", () => {
    const scope = { date: "20250115", region: "us-east-1", service: "s3" };
    assert.equal(
      new ChunkSignatureChain(Buffer.alloc(32), "d", scope, "AB".repeat(32)).previousSignatureHex,
      "ab".repeat(32),
    );
    assert.throws(() => new ChunkSignatureChain(Buffer.alloc(32), "d", scope, "ab"), TypeError);
    assert.throws(() => new ChunkSignatureChain(Buffer.alloc(32), "d", scope, "g".repeat(64)), TypeError);
  });
});
