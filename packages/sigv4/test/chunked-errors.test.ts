import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { S3Error } from "@osp/errors";
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChunkedDecoderOptions,
  type ChunkedMode,
  type ChunkSigning,
  checksumHeaderName,
  createChecksum,
  createChunkedDecoder,
  encodeAwsChunked,
} from "../src/index.js";
import { assertS3Error, createRandom, feed } from "./chunked-helpers.js";

const SIGNING: ChunkSigning = {
  signingKey: createHash("sha256").update("error key").digest(),
  amzDate: "20250115T101112Z",
  scope: { date: "20250115", region: "us-east-1", service: "s3" },
  seedSignature: createHash("sha256").update("error seed").digest("hex"),
};
const DATA = createRandom(99).bytes(20_000);

function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return checksum.digestBase64();
}

function body(
  mode: ChunkedMode,
  algorithm: ChecksumAlgorithm | null = null,
  data = DATA,
  chunkBytes = 8192,
): Buffer {
  return encodeAwsChunked(data, {
    chunkBytes,
    mode,
    ...(mode === "streaming-unsigned-trailer" ? {} : { signing: SIGNING }),
    trailers: algorithm === null ? [] : [[checksumHeaderName(algorithm), checksumOf(algorithm, data)]],
  });
}

function options(mode: ChunkedMode, extra: Partial<ChunkedDecoderOptions> = {}): ChunkedDecoderOptions {
  return {
    mode,
    decodedContentLength: DATA.length,
    signing: mode === "streaming-unsigned-trailer" ? null : SIGNING,
    announcedTrailers: [],
    ...extra,
  };
}

/**
 * Feeds `wire` (in two writes, and byte-exact cut variants) and asserts the verdict, that it came as the
 * given S3Error, and that the held-back bytes were never emitted.
 */
function assertRejected(opts: ChunkedDecoderOptions, wire: Buffer, code: string, status: number): S3Error {
  let first: S3Error | undefined;
  for (const cuts of [[], [Math.floor(wire.length / 2)], [1, wire.length - 1]]) {
    for (const known of [true, false]) {
      const decoder = createChunkedDecoder({
        ...opts,
        decodedContentLength: known ? opts.decodedContentLength : null,
      });
      const result = feed(decoder, wire, cuts);
      const error = assertS3Error(result.error, code, status);
      first ??= error;
      assert.ok(result.output.length < DATA.length, "the held-back tail was never released");
      assert.equal(result.output.length, result.emittedBeforeEnd);
    }
  }
  return first!;
}

function flip(wire: Buffer, at: number): Buffer {
  const copy = Buffer.from(wire);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

function replace(wire: Buffer, from: string | RegExp, to: string | ((match: string) => string)): Buffer {
  const text = wire.toString("latin1");
  const changed = typeof to === "string" ? text.replace(from, to) : text.replace(from, to);
  assert.notEqual(changed, text, `pattern ${String(from)} found`);
  return Buffer.from(changed, "latin1");
}

describe("aws-chunked signatures", () => {
  it("refuses a data byte changed in a signed chunk with 403 SignatureDoesNotMatch", () => {
    for (const mode of ["streaming-signed", "streaming-signed-trailer"] as const) {
      const wire = body(mode);
      assertRejected(options(mode), flip(wire, 9000), "SignatureDoesNotMatch", 403);
    }
  });

  it("refuses a changed chunk signature, also in the last data chunk and in the terminal 0-chunk", () => {
    const wire = body("streaming-signed");
    const text = wire.toString("latin1");
    const signatures = [...text.matchAll(/chunk-signature=([0-9a-f]{64})/g)];
    assert.equal(signatures.length, 4);
    for (const match of [signatures[0]!, signatures[2]!, signatures[3]!]) {
      const at = match.index + "chunk-signature=".length + 10;
      const changed = Buffer.from(wire);
      changed[at] = changed[at] === 0x30 ? 0x31 : 0x30;
      assertRejected(options("streaming-signed"), changed, "SignatureDoesNotMatch", 403);
    }
  });

  it("refuses a chain that starts from another seed signature", () => {
    const wire = body("streaming-signed");
    const other = { ...SIGNING, seedSignature: "0".repeat(64) };
    assertRejected(options("streaming-signed", { signing: other }), wire, "SignatureDoesNotMatch", 403);
  });

  it("refuses a body signed with another key", () => {
    const wire = body("streaming-signed");
    const other = { ...SIGNING, signingKey: Buffer.alloc(32, 1) };
    assertRejected(options("streaming-signed", { signing: other }), wire, "SignatureDoesNotMatch", 403);
  });

  it("refuses a trailer changed after signing (the value no longer matches x-amz-trailer-signature)", () => {
    const wire = body("streaming-signed-trailer", "CRC32");
    const other = checksumOf("CRC32", Buffer.from("something else"));
    const changed = replace(wire, /x-amz-checksum-crc32:[^\r]+/, `x-amz-checksum-crc32:${other}`);
    assertRejected(
      options("streaming-signed-trailer", { announcedTrailers: ["x-amz-checksum-crc32"] }),
      changed,
      "SignatureDoesNotMatch",
      403,
    );
  });

  it("refuses a changed x-amz-trailer-signature", () => {
    const wire = body("streaming-signed-trailer", "SHA256");
    const changed = replace(
      wire,
      /x-amz-trailer-signature:(.)/,
      (m: string) => m.slice(0, -1) + (m.endsWith("0") ? "1" : "0"),
    );
    assertRejected(
      options("streaming-signed-trailer", { announcedTrailers: ["x-amz-checksum-sha256"] }),
      changed,
      "SignatureDoesNotMatch",
      403,
    );
  });

  it("refuses a signed-trailer body without x-amz-trailer-signature with 400 MalformedTrailerError", () => {
    const wire = body("streaming-signed-trailer", "CRC32C");
    const changed = replace(wire, /x-amz-trailer-signature:[0-9a-f]{64}\r\n/, "");
    assertRejected(
      options("streaming-signed-trailer", { announcedTrailers: ["x-amz-checksum-crc32c"] }),
      changed,
      "MalformedTrailerError",
      400,
    );
  });

  it("refuses a signed chunk header without its chunk-signature, and an unsigned one with it (400 IncompleteBody)", () => {
    const signed = replace(body("streaming-signed"), /;chunk-signature=[0-9a-f]{64}/, "");
    assertRejected(options("streaming-signed"), signed, "IncompleteBody", 400);
    const short = replace(body("streaming-signed"), /(;chunk-signature=[0-9a-f]{63})[0-9a-f]/, "$1");
    assertRejected(options("streaming-signed"), short, "IncompleteBody", 400);
    const unsigned = replace(
      body("streaming-unsigned-trailer"),
      "2000\r\n",
      `2000;chunk-signature=${"a".repeat(64)}\r\n`,
    );
    assertRejected(options("streaming-unsigned-trailer"), unsigned, "IncompleteBody", 400);
  });
});

describe("aws-chunked checksum trailers", () => {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    it(`refuses data that does not match its ${algorithm} trailer with 400 BadDigest`, () => {
      for (const mode of ["streaming-unsigned-trailer", "streaming-signed-trailer"] as const) {
        const announced = [checksumHeaderName(algorithm)];
        // A checksum of other data, signed properly: only the checksum can catch it.
        const wire = encodeAwsChunked(DATA, {
          chunkBytes: 8192,
          mode,
          ...(mode === "streaming-unsigned-trailer" ? {} : { signing: SIGNING }),
          trailers: [[announced[0]!, checksumOf(algorithm, Buffer.from("other"))]],
        });
        const error = assertRejected(options(mode, { announcedTrailers: announced }), wire, "BadDigest", 400);
        if (algorithm === "CRC32")
          assert.equal(error.message, "The CRC32 you specified did not match the calculated checksum.");
      }
    });
  }

  it("refuses a flipped data byte in an unsigned-trailer body with 400 BadDigest", () => {
    const wire = body("streaming-unsigned-trailer", "CRC64NVME");
    assertRejected(
      options("streaming-unsigned-trailer", { announcedTrailers: ["x-amz-checksum-crc64nvme"] }),
      flip(wire, 12_345),
      "BadDigest",
      400,
    );
  });
});

describe("aws-chunked trailer section", () => {
  const announced = ["x-amz-checksum-crc32"];
  const wire = body("streaming-unsigned-trailer", "CRC32");

  it("refuses a trailer not announced in x-amz-trailer with 400 MalformedTrailerError", () => {
    assertRejected(
      options("streaming-unsigned-trailer", { announcedTrailers: ["x-amz-checksum-crc32c"] }),
      wire,
      "MalformedTrailerError",
      400,
    );
    const extra = replace(wire, "x-amz-checksum-crc32:", "x-amz-meta-evil:1\r\nx-amz-checksum-crc32:");
    assertRejected(
      options("streaming-unsigned-trailer", { announcedTrailers: announced }),
      extra,
      "MalformedTrailerError",
      400,
    );
  });

  it("refuses any trailer line when no trailer is expected", () => {
    assertRejected(options("streaming-unsigned-trailer"), wire, "MalformedTrailerError", 400);
    const signed = replace(
      body("streaming-signed"),
      /\r\n\r\n$/,
      "\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
    );
    assertRejected(options("streaming-signed"), signed, "MalformedTrailerError", 400);
  });

  it("refuses a body without the announced trailer (0\\r\\n\\r\\n) with 400 MalformedTrailerError", () => {
    const missing = body("streaming-unsigned-trailer", null);
    assertRejected(
      options("streaming-unsigned-trailer", { announcedTrailers: announced }),
      missing,
      "MalformedTrailerError",
      400,
    );
    const bare = replace(missing, /\r\n\r\n$/, "\r\n");
    assertRejected(
      options("streaming-unsigned-trailer", { announcedTrailers: announced }),
      bare,
      "IncompleteBody",
      400,
    );
  });

  it("refuses a duplicated trailer, a line without a colon and a line ended by a bare LF", () => {
    const opts = options("streaming-unsigned-trailer", { announcedTrailers: announced });
    const twice = replace(wire, /(x-amz-checksum-crc32:[^\r]+\r\n)/, "$1$1");
    assertRejected(opts, twice, "MalformedTrailerError", 400);
    assertRejected(
      opts,
      replace(wire, "x-amz-checksum-crc32:", "x-amz-checksum-crc32 "),
      "MalformedTrailerError",
      400,
    );
    assertRejected(
      opts,
      replace(wire, /(x-amz-checksum-crc32:[^\r]+)\r\n/, "$1\n"),
      "MalformedTrailerError",
      400,
    );
  });

  it("refuses x-amz-trailer-signature in an unsigned body", () => {
    const opts = options("streaming-unsigned-trailer", { announcedTrailers: announced });
    const signed = replace(wire, /\r\n\r\n$/, `\r\nx-amz-trailer-signature:${"a".repeat(64)}\r\n\r\n`);
    assertRejected(opts, signed, "MalformedTrailerError", 400);
  });

  it("refuses endless trailers past maxTrailerBytes with 400 MalformedTrailerError", () => {
    const opts = options("streaming-unsigned-trailer", {
      announcedTrailers: announced,
      maxTrailerBytes: 1024,
    });
    const long = replace(wire, "x-amz-checksum-crc32:", `x-amz-checksum-crc32:${" ".repeat(2000)}`);
    assertRejected(opts, long, "MalformedTrailerError", 400);
    const many = replace(wire, /\r\n\r\n$/, `\r\n${"x-amz-checksum-crc32:AAAAAA==\r\n".repeat(100)}`);
    assertRejected(opts, many, "MalformedTrailerError", 400);
  });
});

describe("aws-chunked lengths and framing", () => {
  it("refuses data shorter than x-amz-decoded-content-length with 400 IncompleteBody", () => {
    const decoder = createChunkedDecoder(
      options("streaming-signed", { decodedContentLength: DATA.length + 1 }),
    );
    const result = feed(decoder, body("streaming-signed"));
    assertS3Error(result.error, "IncompleteBody", 400);
    assert.ok(result.output.length < DATA.length + 1, "fewer bytes released than promised upstream");
  });

  it("refuses a chunk longer than what remains of x-amz-decoded-content-length, before releasing its data", () => {
    const decoder = createChunkedDecoder(options("streaming-signed", { decodedContentLength: 10_000 }));
    const result = feed(decoder, body("streaming-signed"));
    assertS3Error(result.error, "IncompleteBody", 400);
    assert.equal(result.output.length, 8192);
  });

  it("refuses a chunk header line over maxChunkHeaderBytes, even cut into 1-byte writes", () => {
    const long = Buffer.from(`${"0".repeat(5000)}1\r\nx\r\n0\r\n\r\n`);
    const opts = options("streaming-unsigned-trailer", { decodedContentLength: 1 });
    const decoder = createChunkedDecoder(opts);
    const result = feed(
      decoder,
      long,
      Array.from({ length: 4200 }, (_, i) => i + 1),
    );
    assertS3Error(result.error, "IncompleteBody", 400);
    assert.ok(decoder.bufferedBytes <= 4098);
    assertS3Error(
      feed(createChunkedDecoder({ ...opts, maxChunkHeaderBytes: 64 }), Buffer.from(`1;${"x".repeat(70)}\r\n`))
        .error,
      "IncompleteBody",
      400,
    );
  });

  it("refuses huge and non-hex chunk sizes", () => {
    const opts = options("streaming-unsigned-trailer", { decodedContentLength: null });
    for (const size of ["fffffffffffffffff", "20000000000000", "-1", "+1", " 1", "1 ", "0x10", "g", ""]) {
      assertS3Error(
        feed(createChunkedDecoder(opts), Buffer.from(`${size}\r\nabc`)).error,
        "IncompleteBody",
        400,
      );
    }
  });

  it("refuses chunk data not followed by CRLF (a chunk size smaller than the data)", () => {
    const wire = replace(body("streaming-unsigned-trailer"), "2000\r\n", "1fff\r\n");
    assertRejected(options("streaming-unsigned-trailer"), wire, "IncompleteBody", 400);
  });

  it("refuses a chunk header ended by a bare LF", () => {
    const wire = replace(body("streaming-unsigned-trailer"), "2000\r\n", "2000\n");
    assertRejected(options("streaming-unsigned-trailer"), wire, "IncompleteBody", 400);
  });

  it("refuses bytes after the end of the body", () => {
    for (const extra of ["x", "\r\n", "0\r\n\r\n"]) {
      const wire = Buffer.concat([body("streaming-signed"), Buffer.from(extra)]);
      assertRejected(options("streaming-signed"), wire, "IncompleteBody", 400);
    }
  });

  it("refuses a body cut anywhere before its end with 400 IncompleteBody, never releasing the tail", () => {
    const small = DATA.subarray(0, 300);
    const wire = encodeAwsChunked(small, {
      chunkBytes: 100,
      mode: "streaming-signed-trailer",
      signing: SIGNING,
      trailers: [["x-amz-checksum-crc32", checksumOf("CRC32", small)]],
    });
    for (let cut = 0; cut < wire.length; cut++) {
      const decoder = createChunkedDecoder(
        options("streaming-signed-trailer", {
          decodedContentLength: small.length,
          announcedTrailers: ["x-amz-checksum-crc32"],
        }),
      );
      const result = feed(decoder, wire.subarray(0, cut));
      const error = result.error as S3Error;
      assert.ok(error instanceof S3Error, `cut at ${cut}`);
      // A cut inside the final empty line leaves a finished-looking section whose verdict is the missing line.
      assert.ok(
        error.code === "IncompleteBody" || error.code === "MalformedTrailerError",
        `cut at ${cut}: ${error.code}`,
      );
      assert.ok(result.output.length < small.length, `cut at ${cut}`);
    }
  });

  it("keeps failing with the same error once a verdict failed", () => {
    const decoder = createChunkedDecoder(options("streaming-signed"));
    const wire = flip(body("streaming-signed"), 100);
    const first = feed(decoder, wire).error;
    assert.throws(
      () => decoder.write(Buffer.from("x"), () => {}),
      (e) => e === first,
    );
    assert.throws(
      () => decoder.end(() => {}),
      (e) => e === first,
    );
  });
});

describe("aws-chunked minimum chunk size (S3 parity)", () => {
  const opts = (length: number | null) =>
    options("streaming-signed", { minChunkBytes: 8192, decodedContentLength: length });

  it("refuses a small non-final chunk with 400 InvalidChunkSizeError (Chunk, BadChunkSize), before its data when the length is known", () => {
    const wire = body("streaming-signed", null, DATA, 5000);
    const decoder = createChunkedDecoder(opts(DATA.length));
    const result = feed(decoder, wire);
    const error = assertS3Error(result.error, "InvalidChunkSizeError", 400);
    assert.deepEqual(error.fields, [
      ["Chunk", "1"],
      ["BadChunkSize", "5000"],
    ]);
    assert.equal(result.output.length, 0);
  });

  it("refuses it on the next chunk header when the length is unknown", () => {
    const wire = body("streaming-signed", null, DATA, 5000);
    const result = feed(createChunkedDecoder(opts(null)), wire);
    const error = assertS3Error(result.error, "InvalidChunkSizeError", 400);
    assert.deepEqual(error.fields, [
      ["Chunk", "1"],
      ["BadChunkSize", "5000"],
    ]);
    assert.ok(result.output.length < DATA.length);
  });

  it("accepts small chunks by default (lenient)", () => {
    assert.equal(
      feed(createChunkedDecoder(options("streaming-signed")), body("streaming-signed", null, DATA, 100))
        .error,
      undefined,
    );
  });
});

describe("createChunkedDecoder options", () => {
  it("refuses an unknown checksum in x-amz-trailer with 400 InvalidRequest before the body", () => {
    for (const name of ["x-amz-checksum-md5", "x-amz-trailer-signature"]) {
      assert.throws(
        () => createChunkedDecoder(options("streaming-unsigned-trailer", { announcedTrailers: [name] })),
        (e) => assertS3Error(e, "InvalidRequest", 400) instanceof S3Error,
      );
    }
  });

  it("refuses x-amz-trailer with STREAMING-AWS4-HMAC-SHA256-PAYLOAD (nothing could sign the trailers)", () => {
    assert.throws(
      () =>
        createChunkedDecoder(options("streaming-signed", { announcedTrailers: ["x-amz-checksum-crc32"] })),
      (e) => assertS3Error(e, "InvalidRequest", 400) instanceof S3Error,
    );
  });

  it("throws TypeError on caller bugs: a signed mode without signing, a negative length", () => {
    assert.throws(() => createChunkedDecoder(options("streaming-signed", { signing: null })), TypeError);
    assert.throws(
      () => createChunkedDecoder(options("streaming-signed", { decodedContentLength: -1 })),
      TypeError,
    );
  });
});
