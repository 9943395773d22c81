import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  authenticateRequest,
  createChunkedDecoder,
  createPayloadVerifier,
  HELD_BACK_BYTES,
  type RequestFacts,
  SigningKeyCache,
  signRequest,
  verifySignature,
} from "@osp/sigv4";
import { createVerifyPool, type VerifyOptions, type VerifyPool } from "../src/index.js";
import { S3Error } from "../src/s3-error.js";
import {
  type BodyCase,
  chunkedCase,
  createRandom,
  feed,
  hexCase,
  randomCuts,
  SIGNING,
  tamper,
} from "./support/bodies.js";

/** Every mode, with batches small enough that a body takes many hand-offs cut anywhere. */
const MODES: ReadonlyArray<readonly [string, VerifyOptions]> = [
  ["inline", { mode: "inline", threads: 0 }],
  ["pool, 1 thread", { mode: "pool", threads: 1, batchBytes: 16 * 1024, windowBytes: 48 * 1024 }],
  ["pool, 2 threads", { mode: "pool", threads: 2, batchBytes: 5000, windowBytes: 5000 }],
  ["auto, every signed body pooled", { mode: "auto", threads: 1, autoMinBodyBytes: 1, batchBytes: 7000 }],
];

const random = createRandom(5);
const PAYLOAD = random.bytes(150_000);
const good = chunkedCase("aws-chunked", PAYLOAD, 8192);

/** `wire` of `good` with the last chunk's signature edited (its first hex digit). */
function badLastSignature(): Buffer {
  const text = good.wire.toString("latin1");
  const at = text.lastIndexOf("chunk-signature=", text.lastIndexOf("chunk-signature=") - 1) + 16;
  const wire = Buffer.from(good.wire);
  wire[at] = wire[at] === 0x30 ? 0x31 : 0x30;
  return wire;
}

const CASES: readonly BodyCase[] = [
  good,
  { ...good, name: "aws-chunked with a data byte flipped", wire: tamper(good.wire, 70_000) },
  { ...good, name: "aws-chunked with a bad chunk signature", wire: badLastSignature() },
  { ...good, name: "aws-chunked cut short", wire: good.wire.subarray(0, good.wire.length - 9000) },
  chunkedCase("aws-chunked with a signed CRC32 trailer", PAYLOAD, 65_536, true),
  (() => {
    const trailer = chunkedCase("aws-chunked with a tampered trailer checksum", PAYLOAD, 65_536, true);
    // The CRC32 value: before the signature line (90 bytes with its CRLF) and the final CRLF.
    return { ...trailer, wire: tamper(trailer.wire, -100) };
  })(),
  hexCase("a plain body with its hex sha256", PAYLOAD),
  hexCase("a plain body whose hex sha256 does not match", tamper(PAYLOAD, 149_999), PAYLOAD),
  hexCase("a plain body shorter than its Content-Length", PAYLOAD.subarray(0, 100_000), PAYLOAD),
  hexCase("a plain body with a wrong Content-MD5", PAYLOAD, PAYLOAD, {
    contentMd5: "1B2M2Y8AsgTpgAmY7PhCfg==",
  }),
];

/** sigv4's own inline verdict, the reference every mode must give. */
function reference(c: BodyCase, cuts: readonly number[]) {
  const verifier =
    c.spec.kind === "chunked" ? createChunkedDecoder(c.spec.options) : createPayloadVerifier(c.spec.options);
  return feed(verifier, c.wire, cuts, c.payload.length);
}

describe("every verify mode gives sigv4's inline verdicts", () => {
  const pools = new Map<string, VerifyPool>(
    MODES.map(([name, options]) => [name, createVerifyPool(options)]),
  );
  after(() => Promise.all([...pools.values()].map((pool) => pool.close())));

  for (const c of CASES) {
    it(`gives the same verdict and bytes for ${c.name}, in every mode`, async () => {
      const cuts = randomCuts(c.wire.length, 20_000, c.wire.length);
      const expected = await reference(c, cuts);
      for (const [mode, pool] of pools) {
        const verifier = pool.createBodyVerifier(c.spec, c.payload.length);
        assert.equal("pooled" in verifier, mode !== "inline", `${mode}: where the body is verified`);
        const got = await feed(verifier, c.wire, cuts, c.payload.length);
        assert.deepEqual(got.error, expected.error, `${mode}: verdict`);
        assert.equal(got.lastByteBeforeEnd, false, `${mode}: the last byte waits for end()`);
        if (expected.error === null) assert.ok(got.output.equals(c.payload), `${mode}: forwarded bytes`);
        else
          assert.ok(
            got.output.length <= c.payload.length - HELD_BACK_BYTES,
            `${mode}: a failed body never completes`,
          );
      }
    });
  }

  it("throws sigv4's header verdicts before any byte, in every mode", () => {
    for (const [mode, pool] of pools) {
      assert.throws(
        () => pool.createBodyVerifier({ kind: "payload", options: { contentMd5Base64: "nope" } }, 10),
        (e) => e instanceof S3Error && e.code === "InvalidDigest",
        mode,
      );
      assert.throws(
        () =>
          pool.createBodyVerifier(
            {
              kind: "chunked",
              options: {
                mode: "streaming-signed",
                decodedContentLength: 10,
                signing: SIGNING,
                announcedTrailers: ["x-amz-checksum-crc32"],
              },
            },
            10,
          ),
        (e) => e instanceof S3Error && e.code === "InvalidRequest",
        mode,
      );
    }
  });
});

describe("every verify mode gives sigv4's signature verdicts", () => {
  const pools = new Map<string, VerifyPool>(
    MODES.map(([name, options]) => [name, createVerifyPool(options)]),
  );
  after(() => Promise.all([...pools.values()].map((pool) => pool.close())));
  const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);

  function signed(secret: string, tamperHeader: boolean) {
    const headers: Array<readonly [string, string]> = [
      ["host", "bucket.s3.example.com"],
      ["x-amz-meta-note", "hello"],
    ];
    const signature = signRequest({
      method: "GET",
      rawPath: "/key%20one",
      rawQuery: "versionId=3",
      headers,
      payloadHash: "UNSIGNED-PAYLOAD",
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: secret,
      region: "us-east-1",
      nowMs: NOW_MS,
    });
    const facts: RequestFacts = {
      method: "GET",
      rawPath: "/key%20one",
      rawQuery: "versionId=3",
      headers: [
        ["host", "bucket.s3.example.com"],
        ["x-amz-meta-note", tamperHeader ? "hellO" : "hello"],
        ...signature.headersToAdd,
      ],
    };
    const auth = authenticateRequest(facts, { nowMs: NOW_MS });
    assert.ok(auth !== null && !(auth instanceof S3Error));
    return auth;
  }

  for (const [name, tampered] of [
    ["a good signature", false],
    ["a signature over a header the client did not send", true],
  ] as const) {
    it(`gives the inline verdict and signing key for ${name}, on a cache hit and on a miss`, async () => {
      for (const secret of ["secret-one", "secret-two"]) {
        const auth = signed(secret, tampered);
        const key = new SigningKeyCache().get(secret, auth.scope);
        const expected = verifySignature(auth, key, { exposeCanonicalRequest: true });
        for (const [mode, pool] of pools) {
          const cache = new SigningKeyCache();
          for (const attempt of ["miss", "hit"]) {
            const got = await pool.verifyRequest(auth, secret, cache, { exposeCanonicalRequest: true });
            assert.ok(got.signingKey.equals(key), `${mode} ${attempt}: signing key`);
            assert.deepEqual(got.failure?.toData() ?? null, expected?.toData() ?? null, `${mode} ${attempt}`);
            assert.equal(got.failure === null, !tampered);
          }
        }
      }
    });
  }
});
