import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChunkedMode,
  type ChunkSigning,
  checksumHeaderName,
  chunkStringToSign,
  createChecksum,
  createChunkedDecoder,
  createChunkedDecodeStream,
  encodeAwsChunked,
  HELD_BACK_BYTES,
  signStringToSign,
} from "../src/index.js";
import { assertS3Error, createRandom, feed, randomCuts } from "./chunked-helpers.js";

const SIGNING: ChunkSigning = {
  signingKey: createHash("sha256").update("test key").digest(),
  amzDate: "20250115T101112Z",
  scope: { date: "20250115", region: "eu-de", service: "s3" },
  seedSignature: createHash("sha256").update("seed").digest("hex"),
};

interface Case {
  readonly name: string;
  readonly mode: ChunkedMode;
  readonly algorithm: ChecksumAlgorithm | null;
}

const CASES: Case[] = [
  { name: "signed", mode: "streaming-signed", algorithm: null },
  { name: "signed-trailer without trailers", mode: "streaming-signed-trailer", algorithm: null },
  { name: "unsigned-trailer without trailers", mode: "streaming-unsigned-trailer", algorithm: null },
  ...CHECKSUM_ALGORITHMS.flatMap((algorithm): Case[] => [
    { name: `signed-trailer with ${algorithm}`, mode: "streaming-signed-trailer", algorithm },
    { name: `unsigned-trailer with ${algorithm}`, mode: "streaming-unsigned-trailer", algorithm },
  ]),
];

function encode(c: Case, data: Buffer, chunkBytes: number): Buffer {
  const trailers: Array<readonly [string, string]> = [];
  if (c.algorithm !== null) {
    const checksum = createChecksum(c.algorithm);
    checksum.update(data);
    trailers.push([checksumHeaderName(c.algorithm), checksum.digestBase64()]);
  }
  return encodeAwsChunked(data, {
    chunkBytes,
    mode: c.mode,
    ...(c.mode === "streaming-unsigned-trailer" ? {} : { signing: SIGNING }),
    trailers,
  });
}

function decoderFor(c: Case, decodedContentLength: number | null) {
  return createChunkedDecoder({
    mode: c.mode,
    decodedContentLength,
    signing: c.mode === "streaming-unsigned-trailer" ? null : SIGNING,
    announcedTrailers: c.algorithm === null ? [] : [checksumHeaderName(c.algorithm)],
  });
}

function assertRoundTrip(
  c: Case,
  data: Buffer,
  body: Buffer,
  cuts: number[],
  known: boolean,
  label: string,
): void {
  const decoder = decoderFor(c, known ? data.length : null);
  const result = feed(decoder, body, cuts);
  assert.equal(result.error, undefined, `${label}: ${String(result.error)}`);
  assert.ok(result.output.equals(data), `${label}: output`);
  assert.equal(result.emittedBeforeEnd, Math.max(0, data.length - HELD_BACK_BYTES), `${label}: held back`);
  assert.equal(decoder.complete, true, label);
  assert.equal(decoder.decodedBytes, data.length, label);
  assert.equal(decoder.heldBackBytes, 0, label);
  assert.equal(decoder.trailers.length, c.algorithm === null ? 0 : 1, label);
}

describe("aws-chunked round trips (encodeAwsChunked → createChunkedDecoder)", () => {
  for (const c of CASES) {
    it(`${c.name}: small bodies cut at every byte boundary, and fed one byte at a time`, () => {
      const random = createRandom(1);
      for (const length of [0, 1, 2, 5, 17]) {
        const data = random.bytes(length);
        const body = encode(c, data, 4);
        for (let cut = 0; cut <= body.length; cut++) {
          assertRoundTrip(c, data, body, [cut], true, `${length} bytes cut at ${cut}`);
        }
        const everyByte = Array.from({ length: body.length }, (_, i) => i);
        assertRoundTrip(c, data, body, everyByte, true, `${length} bytes, byte by byte`);
        assertRoundTrip(c, data, body, everyByte, false, `${length} bytes, byte by byte, length unknown`);
      }
    });

    it(`${c.name}: large bodies cut at random points, with and without x-amz-decoded-content-length`, () => {
      const seed = 1000 + CASES.indexOf(c);
      const random = createRandom(seed);
      for (const [length, chunkBytes] of [
        [300_000, 65536],
        [100_001, 8192],
        [20_000, 777],
      ] as const) {
        const data = random.bytes(length);
        const body = encode(c, data, chunkBytes);
        for (let round = 0; round < 4; round++) {
          const cuts = randomCuts(random, body.length, 1 + random.int(60));
          assertRoundTrip(
            c,
            data,
            body,
            cuts,
            round % 2 === 0,
            `seed ${seed}, ${length}/${chunkBytes}, round ${round}`,
          );
        }
      }
    });
  }
});

describe("aws-chunked framing variants the decoder accepts", () => {
  const unsigned: Case = { name: "", mode: "streaming-unsigned-trailer", algorithm: "CRC32" };
  const data = Buffer.from("hello, aws-chunked world");
  const crc =
    encode(unsigned, data, 100)
      .toString("latin1")
      .match(/x-amz-checksum-crc32:(\S+)\r\n/)?.[1] ?? "";

  it("accepts upper-case hex chunk sizes", () => {
    const body = Buffer.from(
      `A\r\n${data.subarray(0, 10)}\r\nE\r\n${data.subarray(10)}\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`,
    );
    const result = feed(decoderFor(unsigned, data.length), body);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(data));
  });

  it("accepts one extra empty line between the last-chunk line and the trailers, as MinIO's tests send", () => {
    const body = Buffer.from(`18\r\n${data}\r\n0\r\n\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`);
    const result = feed(decoderFor(unsigned, data.length), body);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(data));
  });

  it("accepts the extra empty line in signed-trailer mode too", () => {
    const c: Case = { name: "", mode: "streaming-signed-trailer", algorithm: "CRC32C" };
    const text = encode(c, data, 100)
      .toString("latin1")
      .replace(/(\r\n0;chunk-signature=[0-9a-f]{64}\r\n)/, "$1\r\n");
    const result = feed(decoderFor(c, data.length), Buffer.from(text, "latin1"));
    assert.equal(result.error, undefined);
  });

  it("accepts a body that ends right after 0\\r\\n when no trailer is expected (smithy without a checksum)", () => {
    const none: Case = { name: "", mode: "streaming-unsigned-trailer", algorithm: null };
    const decoder = decoderFor(none, data.length);
    const result = feed(decoder, Buffer.from(`18\r\n${data}\r\n0\r\n`));
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(data));
    assert.equal(decoder.complete, true);
  });

  it("accepts trailer names in any case and optional whitespace around the value", () => {
    const body = Buffer.from(`18\r\n${data}\r\n0\r\nX-Amz-Checksum-CRC32: ${crc} \r\n\r\n`);
    const decoder = decoderFor(unsigned, data.length);
    assert.equal(feed(decoder, body).error, undefined);
    assert.deepEqual(decoder.trailers, [["x-amz-checksum-crc32", crc]]);
  });

  it("passes announced non-checksum trailers through to `trailers`", () => {
    const decoder = createChunkedDecoder({
      mode: "streaming-unsigned-trailer",
      decodedContentLength: data.length,
      signing: null,
      announcedTrailers: ["x-amz-checksum-crc32", "x-amz-meta-note"],
    });
    const body = Buffer.from(
      `18\r\n${data}\r\n0\r\nx-amz-meta-note:hi\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`,
    );
    assert.equal(feed(decoder, body).error, undefined);
    assert.deepEqual(decoder.trailers, [
      ["x-amz-meta-note", "hi"],
      ["x-amz-checksum-crc32", crc],
    ]);
  });

  it("decodes with minChunkBytes 8192 when only the last chunk is small", () => {
    const big = createRandom(3).bytes(8192 * 3 + 5);
    const c: Case = { name: "", mode: "streaming-signed", algorithm: null };
    for (const known of [true, false]) {
      const decoder = createChunkedDecoder({
        mode: "streaming-signed",
        decodedContentLength: known ? big.length : null,
        signing: SIGNING,
        announcedTrailers: [],
        minChunkBytes: 8192,
      });
      assert.equal(feed(decoder, encode(c, big, 8192)).error, undefined);
    }
  });
});

describe("aws-chunked memory bound", () => {
  it("releases a single 32 MiB signed chunk as it arrives, holding back only the last byte", () => {
    const piece = createRandom(12).bytes(1024 * 1024);
    const pieces = 32;
    const size = piece.length * pieces;
    const dataHash = createHash("sha256");
    for (let i = 0; i < pieces; i++) dataHash.update(piece);
    const { amzDate, scope, signingKey, seedSignature } = SIGNING;
    const first = signStringToSign(
      signingKey,
      chunkStringToSign(amzDate, scope, seedSignature, dataHash.digest("hex")),
    );
    const empty = createHash("sha256").digest("hex");
    const last = signStringToSign(signingKey, chunkStringToSign(amzDate, scope, first, empty));
    const decoder = createChunkedDecoder({
      mode: "streaming-signed",
      decodedContentLength: size,
      signing: SIGNING,
      announcedTrailers: [],
    });
    let emitted = 0;
    const emit = (data: Buffer): void => {
      emitted += data.length;
    };
    decoder.write(Buffer.from(`${size.toString(16)};chunk-signature=${first}\r\n`), emit);
    for (let i = 0; i < pieces; i++) {
      decoder.write(piece, emit);
      assert.equal(emitted, Math.min((i + 1) * piece.length, size - HELD_BACK_BYTES));
      assert.ok(decoder.bufferedBytes <= HELD_BACK_BYTES);
    }
    decoder.write(Buffer.from(`\r\n0;chunk-signature=${last}\r\n\r\n`), emit);
    assert.equal(decoder.complete, true);
    decoder.end(emit);
    assert.equal(emitted, size);
  });
});

describe("createChunkedDecodeStream", () => {
  async function run(pieces: Buffer[], c: Case, length: number): Promise<{ output: Buffer; error: unknown }> {
    const stream = createChunkedDecodeStream({
      mode: c.mode,
      decodedContentLength: length,
      signing: c.mode === "streaming-unsigned-trailer" ? null : SIGNING,
      announcedTrailers: c.algorithm === null ? [] : [checksumHeaderName(c.algorithm)],
    });
    const parts: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    });
    try {
      await pipeline(Readable.from(pieces), stream, sink);
      assert.equal(stream.verifier.complete, true);
      return { output: Buffer.concat(parts), error: undefined };
    } catch (error) {
      return { output: Buffer.concat(parts), error };
    }
  }

  it("pipes an encoded body through as the decoded payload and exposes the trailers", async () => {
    const c: Case = { name: "", mode: "streaming-signed-trailer", algorithm: "CRC64NVME" };
    const data = createRandom(5).bytes(150_000);
    const body = encode(c, data, 65536);
    const pieces = randomCuts(createRandom(6), body.length, 30).map((cut, i, all) =>
      body.subarray(all[i - 1] ?? 0, cut),
    );
    pieces.push(body.subarray(pieces.reduce((n, p) => n + p.length, 0)));
    const result = await run(pieces, c, data.length);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(data));
  });

  it("fails the pipeline with the S3Error, before the held-back byte reached the sink", async () => {
    const c: Case = { name: "", mode: "streaming-unsigned-trailer", algorithm: "CRC32" };
    const data = createRandom(8).bytes(10_000);
    const body = Buffer.from(encode(c, data, 4096));
    body[100] = body[100]! ^ 1; // a data byte: the CRC32 trailer no longer matches
    const result = await run([body.subarray(0, 5000), body.subarray(5000)], c, data.length);
    assertS3Error(result.error, "BadDigest", 400);
    assert.ok(result.output.length < data.length);
  });
});
