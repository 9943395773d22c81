/**
 * Micro-benchmarks of aws-chunked decoding, body verification and the flexible checksums (docs/s3-sigv4.md
 * "aws-chunked", "Checksums"). Every case processes the same 8 MiB of random payload fed in 64 KiB writes (a
 * network-sized read), and the cases run interleaved, round after round, so that a noisy neighbour hits them
 * all alike (the baseline and signed decoding in a group of their own, for a like-for-like ratio). Figures
 * are MB (10^6 bytes) of payload per CPU-second of this process (`process.cpuUsage`, which a busy neighbour
 * does not inflate the way it does wall time), median of the rounds after warm-up.
 *
 * The target is the ratio row: signed chunk decoding ≥ 80 % of raw SHA-256 over the same bytes.
 */

import { createHash, randomBytes } from "node:crypto";
import {
  type ChecksumAlgorithm,
  type ChunkSigning,
  checksumHeaderName,
  createChecksum,
  createChunkedDecoder,
  createPayloadVerifier,
  encodeAwsChunked,
} from "@osp/sigv4";

interface Row {
  name: string;
  unit: string;
  value: number;
}

interface Case {
  readonly name: string;
  readonly run: () => void;
}

const PAYLOAD_BYTES = 8 * 1024 * 1024;
const WRITE_BYTES = 64 * 1024;
const CHUNK_BYTES = 64 * 1024;
const CRCS: readonly ChecksumAlgorithm[] = ["CRC32", "CRC32C", "CRC64NVME"];
const ALL: readonly ChecksumAlgorithm[] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/** Cuts `body` into network-sized writes (views, no copy). */
function writesOf(body: Buffer): Buffer[] {
  const writes: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += WRITE_BYTES)
    writes.push(body.subarray(offset, offset + WRITE_BYTES));
  return writes;
}

const discard = (_data: Buffer): void => {};

/** Runs every case `warmup + rounds` times, interleaved; returns the median MB per CPU-second of each. */
function measure(cases: readonly Case[], rounds: number, warmup: number): Map<string, number> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (const c of cases) {
      const before = process.cpuUsage();
      c.run();
      const used = process.cpuUsage(before);
      if (round >= warmup) samples.get(c.name)!.push(PAYLOAD_BYTES / 1e6 / ((used.user + used.system) / 1e6));
    }
  }
  const medians = new Map<string, number>();
  for (const [name, values] of samples) {
    values.sort((a, b) => a - b);
    medians.set(name, values[values.length >> 1]!);
  }
  return medians;
}

/**
 * Returns MB/s rows for: raw SHA-256 (the baseline), signed aws-chunked decoding (64 KiB chunks, 8 MiB body)
 * and its ratio to the baseline, unsigned-trailer decoding with CRC32 / CRC32C / CRC64NVME, the plain-body
 * verifier with a hex sha256, and each standalone checksum.
 */
export async function benchChunked(options: { rounds?: number; warmup?: number } = {}): Promise<Row[]> {
  const rounds = options.rounds ?? 15;
  const warmup = options.warmup ?? 5;
  const payload = randomBytes(PAYLOAD_BYTES);
  const payloadWrites = writesOf(payload);
  const signing: ChunkSigning = {
    signingKey: createHash("sha256").update("bench key").digest(),
    amzDate: "20250115T000000Z",
    scope: { date: "20250115", region: "us-east-1", service: "s3" },
    seedSignature: createHash("sha256").update("bench seed").digest("hex"),
  };
  const signedWrites = writesOf(
    encodeAwsChunked(payload, { chunkBytes: CHUNK_BYTES, mode: "streaming-signed", signing }),
  );
  const payloadSha256 = createHash("sha256").update(payload).digest("hex");

  const cases: Case[] = [
    {
      name: "sha256 raw (baseline)",
      run: () => {
        const hash = createHash("sha256");
        for (const write of signedWrites) hash.update(write);
        hash.digest();
      },
    },
    {
      name: "aws-chunked signed decode",
      run: () => {
        const decoder = createChunkedDecoder({
          mode: "streaming-signed",
          decodedContentLength: PAYLOAD_BYTES,
          signing,
          announcedTrailers: [],
        });
        for (const write of signedWrites) decoder.write(write, discard);
        decoder.end(discard);
      },
    },
    ...CRCS.map((algorithm): Case => {
      const name = checksumHeaderName(algorithm);
      const checksum = createChecksum(algorithm);
      checksum.update(payload);
      const writes = writesOf(
        encodeAwsChunked(payload, {
          chunkBytes: CHUNK_BYTES,
          mode: "streaming-unsigned-trailer",
          trailers: [[name, checksum.digestBase64()]],
        }),
      );
      return {
        name: `aws-chunked unsigned-trailer decode + ${algorithm}`,
        run: () => {
          const decoder = createChunkedDecoder({
            mode: "streaming-unsigned-trailer",
            decodedContentLength: PAYLOAD_BYTES,
            signing: null,
            announcedTrailers: [name],
          });
          for (const write of writes) decoder.write(write, discard);
          decoder.end(discard);
        },
      };
    }),
    {
      name: "payload verifier, hex sha256",
      run: () => {
        const verifier = createPayloadVerifier({ sha256Hex: payloadSha256, expectedLength: PAYLOAD_BYTES });
        for (const write of payloadWrites) verifier.write(write, discard);
        verifier.end(discard);
      },
    },
    ...ALL.map(
      (algorithm): Case => ({
        name: `checksum ${algorithm}`,
        run: () => {
          const checksum = createChecksum(algorithm);
          for (const write of payloadWrites) checksum.update(write);
          checksum.digestBase64();
        },
      }),
    ),
  ];

  // The ratio's two cases alternate only with each other, so both see the same cache and load conditions.
  const medians = new Map([
    ...measure(cases.slice(0, 2), rounds, warmup),
    ...measure(cases.slice(2), rounds, warmup),
  ]);
  const rows: Row[] = cases.map((c) => ({
    name: `chunked: ${c.name}`,
    unit: "MB/s",
    value: medians.get(c.name)!,
  }));
  const ratio = medians.get("aws-chunked signed decode")! / medians.get("sha256 raw (baseline)")!;
  rows.splice(2, 0, {
    name: "chunked: signed decode / raw sha256 (target ≥ 80)",
    unit: "%",
    value: ratio * 100,
  });
  return rows;
}
