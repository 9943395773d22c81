/**
 * Fuzzing the aws-chunked decoder: random and mutated bodies (flipped bytes, cuts, insertions, huge hex sizes,
 * long header lines, endless trailers) cut into random writes. Invariants: only S3Errors (never InternalError,
 * never another throw), no hang, decoder-held bytes bounded by the caps, and never the whole promised body
 * released unless every verdict passed.
 *
 * OSP_FUZZ_CASES sets the number of cases (default 100 000); OSP_FUZZ_SEED replays a run (the seed of a
 * failing case is in the assertion message).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { S3Error } from "@osp/errors";
import {
  CHECKSUM_ALGORITHMS,
  type ChunkedMode,
  type ChunkSigning,
  checksumHeaderName,
  createChecksum,
  createChunkedDecoder,
  encodeAwsChunked,
  HELD_BACK_BYTES,
} from "../src/index.js";
import { createRandom } from "./chunked-helpers.js";

const CASES = Number(process.env["OSP_FUZZ_CASES"] ?? 100_000);
const SEED = Number(process.env["OSP_FUZZ_SEED"] ?? Date.now() % 1_000_000_007);
const MODES: readonly ChunkedMode[] = [
  "streaming-signed",
  "streaming-signed-trailer",
  "streaming-unsigned-trailer",
];
const SIGNING: ChunkSigning = {
  signingKey: createHash("sha256").update("fuzz").digest(),
  amzDate: "20250115T000000Z",
  scope: { date: "20250115", region: "us-east-1", service: "s3" },
  seedSignature: createHash("sha256").update("fuzz seed").digest("hex"),
};

type Random = ReturnType<typeof createRandom>;

interface Base {
  readonly mode: ChunkedMode;
  readonly data: Buffer;
  readonly wire: Buffer;
  readonly announced: string[];
}

function makeBase(random: Random): Base {
  const mode = MODES[random.int(MODES.length)]!;
  const data = random.bytes(random.int(5) === 0 ? 0 : random.int(500));
  const announced: string[] = [];
  const trailers: Array<readonly [string, string]> = [];
  if (mode !== "streaming-signed" && random.int(4) > 0) {
    const algorithm = CHECKSUM_ALGORITHMS[random.int(CHECKSUM_ALGORITHMS.length)]!;
    const checksum = createChecksum(algorithm);
    checksum.update(data);
    announced.push(checksumHeaderName(algorithm));
    trailers.push([checksumHeaderName(algorithm), checksum.digestBase64()]);
  }
  const wire = encodeAwsChunked(data, {
    // At most ~12 chunks: signing them is most of a case's cost.
    chunkBytes: Math.max(1 + random.int(random.int(2) === 0 ? 16 : 300), Math.ceil(data.length / 12)),
    mode,
    ...(mode === "streaming-unsigned-trailer" ? {} : { signing: SIGNING }),
    trailers,
  });
  return { mode, data, wire, announced };
}

const TOKENS = [
  "\r\n",
  "\r",
  "\n",
  ";",
  ";chunk-signature=",
  "0",
  "ffffffffffffffff",
  "x-amz-checksum-crc32:",
  ":",
  "0\r\n\r\n",
];

function mutate(random: Random, wire: Buffer): Buffer {
  let out = wire;
  const steps = 1 + random.int(3);
  for (let s = 0; s < steps; s++) {
    const at = random.int(out.length + 1);
    switch (random.int(9)) {
      case 0: {
        // flip a byte
        if (out.length === 0) break;
        out = Buffer.from(out);
        const i = Math.min(at, out.length - 1);
        out[i] = out[i]! ^ (1 << random.int(8));
        break;
      }
      case 1: // cut
        out = out.subarray(0, at);
        break;
      case 2: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), random.bytes(1 + random.int(8)), out.subarray(at)]);
        break;
      case 3: // insert a framing token
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from(TOKENS[random.int(TOKENS.length)]!),
          out.subarray(at),
        ]);
        break;
      case 4: {
        // a huge hex size in place of the first one
        const text = out.toString("latin1");
        out = Buffer.from(text.replace(/^[0-9a-f]+/, "f".repeat(1 + random.int(24))), "latin1");
        break;
      }
      case 5: // a long header line
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.alloc(100 + random.int(6000), 0x61),
          out.subarray(at),
        ]);
        break;
      case 6: {
        // endless trailers after the terminal chunk
        const lines = "x-amz-checksum-crc32:AAAAAA==\r\n".repeat(1 + random.int(800));
        out = Buffer.concat([out.subarray(0, Math.max(0, out.length - 2)), Buffer.from(lines)]);
        break;
      }
      case 7: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + random.int(20))]);
        break;
      default: // duplicate a range
        out = Buffer.concat([
          out.subarray(0, at),
          out.subarray(at, at + 1 + random.int(40)),
          out.subarray(at),
        ]);
    }
  }
  return out;
}

/** Eight consecutive cases share one base body (derived from the first one's seed), to save encoding time. */
let cachedBase: { seed: number; base: Base } | null = null;

function baseFor(caseSeed: number): Base {
  const seed = caseSeed - (caseSeed % 8);
  if (cachedBase?.seed !== seed) cachedBase = { seed, base: makeBase(createRandom(seed)) };
  return cachedBase.base;
}

function runCase(caseSeed: number): void {
  const random = createRandom(caseSeed);
  const base = baseFor(caseSeed);
  const kind = random.int(10);
  const wire =
    kind === 0 ? base.wire : kind === 1 ? random.bytes(random.int(300)) : mutate(random, base.wire);
  const knownLength = random.int(3) > 0;
  // Valid bodies get the defaults; the others also meet tight caps and S3's minimum chunk size.
  const strict = kind !== 0 && random.int(2) === 0;
  const maxChunkHeaderBytes = strict ? 8 + random.int(200) : 4096;
  const maxTrailerBytes = strict ? 8 + random.int(400) : 16 * 1024;
  const decoder = createChunkedDecoder({
    mode: base.mode,
    decodedContentLength: knownLength ? base.data.length : null,
    signing: base.mode === "streaming-unsigned-trailer" ? null : SIGNING,
    announcedTrailers: base.announced,
    minChunkBytes: strict && random.int(4) === 0 ? 64 : 0,
    maxChunkHeaderBytes,
    maxTrailerBytes,
  });
  const bound = maxChunkHeaderBytes + 2 + 3 * maxTrailerBytes + HELD_BACK_BYTES;
  let emitted = 0;
  const emit = (data: Buffer): void => {
    emitted += data.length;
  };
  let error: unknown;
  try {
    let from = 0;
    while (from < wire.length) {
      const to = Math.min(wire.length, from + 1 + random.int(random.int(2) === 0 ? 8 : 400));
      decoder.write(wire.subarray(from, to), emit);
      from = to;
      assert.ok(
        decoder.bufferedBytes <= bound,
        `seed ${caseSeed}: ${decoder.bufferedBytes} bytes held > ${bound}`,
      );
    }
    decoder.end(emit);
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    assert.equal(decoder.complete, true, `seed ${caseSeed}`);
    if (knownLength) assert.equal(emitted, base.data.length, `seed ${caseSeed}`);
    if (kind === 0) assert.equal(emitted, base.data.length, `seed ${caseSeed}`);
    return;
  }
  assert.ok(
    error instanceof S3Error,
    `seed ${caseSeed}: not an S3Error: ${String((error as Error)?.stack ?? error)}`,
  );
  assert.notEqual(error.code, "InternalError", `seed ${caseSeed}: ${String((error.cause as Error)?.stack)}`);
  assert.notEqual(kind, 0, `seed ${caseSeed}: a valid body was refused: ${error.code} ${error.message}`);
  if (knownLength && base.data.length > 0) {
    assert.ok(
      emitted < base.data.length,
      `seed ${caseSeed}: the whole body was released before a failed verdict`,
    );
  }
}

describe("aws-chunked decoder fuzzing", () => {
  it(`survives ${CASES} random and mutated bodies with only S3Errors and bounded memory (seed ${SEED})`, {
    timeout: 120_000,
  }, () => {
    for (let i = 0; i < CASES; i++) runCase(SEED + i);
  });
});
