/**
 * Signed bodies and a feeder shared by the verify tests: each body as the client sends it (aws-chunked or
 * plain) with the verifier spec the gateway's body plan builds for it, and one way to stream it through any
 * verifier (sigv4's inline one or a pooled one) that records the verdict and what was forwarded.
 */
import { createHash } from "node:crypto";
import {
  type BodyVerifier,
  type ChunkSigning,
  createChecksum,
  deriveSigningKey,
  encodeAwsChunked,
} from "@osp/sigv4";
import type { BodyVerifierSpec, PooledBodyVerifier } from "../../src/index.js";
import { S3Error, type S3ErrorData } from "../../src/s3-error.js";

/** A small deterministic PRNG (xorshift32), so a failing cut is reproducible. */
export function createRandom(seed: number): { next(max: number): number; bytes(n: number): Buffer } {
  let state = seed >>> 0 || 1;
  const nextU32 = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return {
    next: (max) => nextU32() % max,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = nextU32() & 0xff;
      return out;
    },
  };
}

export const SIGNING: ChunkSigning = {
  signingKey: deriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20250115", "us-east-1", "s3"),
  amzDate: "20250115T120000Z",
  scope: { date: "20250115", region: "us-east-1", service: "s3" },
  seedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
};

export interface BodyCase {
  readonly name: string;
  readonly wire: Buffer;
  readonly payload: Buffer;
  readonly spec: BodyVerifierSpec;
}

const sha256Hex = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

function crc32Base64(data: Buffer): string {
  const checksum = createChecksum("CRC32");
  checksum.update(data);
  return checksum.digestBase64();
}

/** A signed aws-chunked body of `payload` (`chunkBytes` per chunk); `trailer` adds a signed CRC32 trailer. */
export function chunkedCase(name: string, payload: Buffer, chunkBytes: number, trailer = false): BodyCase {
  const mode = trailer ? "streaming-signed-trailer" : "streaming-signed";
  const trailers: Array<readonly [string, string]> = trailer
    ? [["x-amz-checksum-crc32", crc32Base64(payload)]]
    : [];
  return {
    name,
    wire: encodeAwsChunked(payload, { chunkBytes, mode, signing: SIGNING, trailers }),
    payload,
    spec: {
      kind: "chunked",
      options: {
        mode,
        decodedContentLength: payload.length,
        signing: SIGNING,
        announcedTrailers: trailer ? ["x-amz-checksum-crc32"] : [],
      },
    },
  };
}

/** A plain body with a hex `x-amz-content-sha256` of `signedPayload` (default: the body itself). */
export function hexCase(
  name: string,
  wire: Buffer,
  signedPayload = wire,
  extra: { contentMd5?: string } = {},
): BodyCase {
  return {
    name,
    wire,
    payload: signedPayload,
    spec: {
      kind: "payload",
      options: {
        sha256Hex: sha256Hex(signedPayload),
        expectedLength: signedPayload.length,
        ...(extra.contentMd5 === undefined ? {} : { contentMd5Base64: extra.contentMd5 }),
      },
    },
  };
}

/** `wire` with one byte flipped at `offset` (negative: from the end). */
export function tamper(wire: Buffer, offset: number): Buffer {
  const copy = Buffer.from(wire);
  const at = offset < 0 ? copy.length + offset : offset;
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

export interface FeedResult {
  /** The verdict: `null` when the body passed. */
  readonly error: S3ErrorData | null;
  readonly output: Buffer;
  /** Whether the very last payload byte was forwarded before `end` was called. */
  readonly lastByteBeforeEnd: boolean;
}

/** Random cuts of `length` bytes, 1 to `maxPiece` each. */
export function randomCuts(length: number, maxPiece: number, seed: number): number[] {
  const random = createRandom(seed);
  const cuts: number[] = [];
  for (let left = length; left > 0; ) {
    const n = Math.min(left, 1 + random.next(maxPiece));
    cuts.push(n);
    left -= n;
  }
  return cuts;
}

/**
 * Streams `wire` through `verifier` in pieces of `cuts` bytes, each a fresh copy (as the HTTP layer hands
 * them over: a pooled verifier may take their memory), then ends it.
 */
export async function feed(
  verifier: BodyVerifier | PooledBodyVerifier,
  wire: Buffer,
  cuts: readonly number[],
  payloadLength: number,
): Promise<FeedResult> {
  const parts: Buffer[] = [];
  let forwarded = 0;
  let ended = false;
  let lastByteBeforeEnd = false;
  const emit = (data: Buffer): void => {
    forwarded += data.length;
    if (forwarded === payloadLength && !ended) lastByteBeforeEnd = true;
    parts.push(Buffer.from(data));
  };
  let error: S3ErrorData | null = null;
  try {
    let offset = 0;
    for (const n of cuts) {
      verifier.write(Buffer.from(wire.subarray(offset, offset + n)), emit);
      offset += n;
    }
    // A pooled verifier: let every batch come back first, so the hold-back is seen before end().
    if ("pooled" in verifier) {
      while (verifier.bufferedBytes > 0 && verifier.failure === null)
        await new Promise((r) => setTimeout(r, 1));
    }
    ended = true;
    await verifier.end(emit);
  } catch (caught) {
    if (!(caught instanceof S3Error)) throw caught;
    error = caught.toData();
  }
  return { error, output: Buffer.concat(parts), lastByteBeforeEnd };
}
