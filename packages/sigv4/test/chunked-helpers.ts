/** Shared by the aws-chunked, checksum and payload tests: fixtures, a seeded PRNG, feeding helpers. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { S3Error } from "@osp/errors";
import type { BodyVerifier, ChunkSigning } from "../src/index.js";

/** The fixture copy inside this package (tests never read /work/shared). Compiled tests live in dist/test. */
export function readVectors(): VectorsFile {
  const file = join(import.meta.dirname, "..", "..", "test", "fixtures", "s3-sigv4-vectors.json");
  return JSON.parse(readFileSync(file, "utf8")) as VectorsFile;
}

export interface ChunkVector {
  readonly id: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly amzDate: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly body?: { type: string; byte?: string; length?: number; chunkSizes?: number[] };
  readonly expected: {
    signingKeyHex: string;
    seedSignature?: string;
    signature?: string;
    chunks?: Array<{
      size: number;
      dataSha256: string;
      stringToSign: string;
      signature: string;
      wireHeader: string;
    }>;
    trailer?: {
      trailerHeaderLine: string;
      hashedTextSha256: string;
      stringToSign: string;
      signature: string;
      wire: string;
    };
    encodedBodyLength?: number;
  };
}

export interface VectorsFile {
  readonly payloadChecksumsFor66560a: Record<string, string>;
  readonly unsignedTrailerWireExample: { wire: string; encodedLength: number };
  readonly vectors: ChunkVector[];
}

export function vectorById(id: string): ChunkVector {
  const vector = readVectors().vectors.find((v) => v.id === id);
  assert.ok(vector, `vector ${id} is in the fixture`);
  return vector;
}

/** The ChunkSigning of a vector (seed = its seed signature, or its header signature for the unsigned seed case). */
export function vectorSigning(v: ChunkVector): ChunkSigning {
  return {
    signingKey: Buffer.from(v.expected.signingKeyHex, "hex"),
    amzDate: v.amzDate,
    scope: { date: v.date, region: v.region, service: v.service },
    seedSignature: v.expected.seedSignature ?? v.expected.signature ?? "",
  };
}

/** A small deterministic PRNG (mulberry32) so failures replay from the printed seed. */
export function createRandom(seed: number): {
  next(): number;
  int(maxExclusive: number): number;
  bytes(n: number): Buffer;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (maxExclusive) => Math.floor(next() * maxExclusive),
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

/** What a verifier released, and how it ended. */
export interface FeedResult {
  readonly output: Buffer;
  /** Bytes emitted before `end()` was called (what a consumer may already have forwarded). */
  readonly emittedBeforeEnd: number;
  readonly error: unknown;
}

/** Feeds `body` cut at `cuts` (ascending offsets) then calls `end`; copies what is emitted. */
export function feed(verifier: BodyVerifier, body: Buffer, cuts: readonly number[] = []): FeedResult {
  const parts: Buffer[] = [];
  const emit = (data: Buffer): void => {
    parts.push(Buffer.from(data));
  };
  let emittedBeforeEnd = 0;
  try {
    let from = 0;
    for (const cut of [...cuts, body.length]) {
      verifier.write(body.subarray(from, cut), emit);
      from = cut;
    }
    emittedBeforeEnd = parts.reduce((n, p) => n + p.length, 0);
    verifier.end(emit);
  } catch (error) {
    emittedBeforeEnd = parts.reduce((n, p) => n + p.length, 0);
    return { output: Buffer.concat(parts), emittedBeforeEnd, error };
  }
  return { output: Buffer.concat(parts), emittedBeforeEnd, error: undefined };
}

/** Asserts `error` is an S3Error with this code and status; returns it. */
export function assertS3Error(error: unknown, code: string, status: number): S3Error {
  assert.ok(error instanceof S3Error, `expected S3Error ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status);
  return error;
}

/** `count` random ascending cut offsets in (0, length). */
export function randomCuts(random: ReturnType<typeof createRandom>, length: number, count: number): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < count && length > 1; i++) cuts.add(1 + random.int(length - 1));
  return [...cuts].sort((a, b) => a - b);
}
