/**
 * S3 flexible checksums (docs/s3-sigv4.md "Checksums"): CRC32, CRC32C, CRC64NVME, SHA1, SHA256, each rendered
 * as base64 of the big-endian digest, as in `x-amz-checksum-*` headers and trailers.
 */

import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { S3Error } from "@osp/errors";
import type { ChecksumAlgorithm } from "../types.js";
import { CRC32C_INIT, updateCrc32c } from "./crc32c.js";
import { Crc64Nvme } from "./crc64nvme.js";

/** A running checksum; `digestBase64()` ends it (call it once). */
export interface Checksum {
  update(data: Uint8Array): void;
  digestBase64(): string;
}

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  "CRC32",
  "CRC32C",
  "CRC64NVME",
  "SHA1",
  "SHA256",
];

/** Digest size in bytes of each algorithm (a header value is the base64 of exactly this many bytes). */
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** Creates a running checksum. CRC32 uses `zlib.crc32` (native, Node ≥ 20.15); CRC32C and CRC64NVME are table-driven JS. */
export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case "CRC32":
      return new Crc32Checksum();
    case "CRC32C":
      return new Crc32cChecksum();
    case "CRC64NVME":
      return new Crc64NvmeChecksum();
    case "SHA1":
      return new HashChecksum("sha1");
    case "SHA256":
      return new HashChecksum("sha256");
  }
}

/** `CRC64NVME` → `x-amz-checksum-crc64nvme`: the header (and trailer) that carries the value. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The algorithm of an `x-amz-checksum-*` header name (any case), or `null` for any other name. */
export function checksumAlgorithmOfHeader(name: string): ChecksumAlgorithm | null {
  const lower = name.toLowerCase();
  if (!lower.startsWith("x-amz-checksum-")) return null;
  const suffix = lower.slice("x-amz-checksum-".length).toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(suffix) ? (suffix as ChecksumAlgorithm) : null;
}

/**
 * Throws 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid." unless `base64` is the
 * canonical base64 of a digest of the algorithm's size. Meant for header values, before the body starts.
 */
export function checkChecksumValue(algorithm: ChecksumAlgorithm, base64: string): void {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== DIGEST_BYTES[algorithm] || bytes.toString("base64") !== base64) {
    throw new S3Error("InvalidRequest", `Value for ${checksumHeaderName(algorithm)} header is invalid.`);
  }
}

/**
 * The name S3 puts in its BadDigest message for a checksum mismatch: "The CRC32 you specified did not match
 * the calculated checksum." / "The sha256 you specified …" (S3's wording, as seen in its answers).
 */
export function checksumMismatchError(algorithm: ChecksumAlgorithm): S3Error {
  const name = algorithm === "SHA1" || algorithm === "SHA256" ? algorithm.toLowerCase() : algorithm;
  return new S3Error("BadDigest", `The ${name} you specified did not match the calculated checksum.`);
}

class Crc32Checksum implements Checksum {
  #value = 0;
  update(data: Uint8Array): void {
    this.#value = crc32(data, this.#value);
  }
  digestBase64(): string {
    return uint32Base64(this.#value);
  }
}

class Crc32cChecksum implements Checksum {
  #value = CRC32C_INIT;
  update(data: Uint8Array): void {
    this.#value = updateCrc32c(this.#value, data);
  }
  digestBase64(): string {
    return uint32Base64(~this.#value >>> 0);
  }
}

class Crc64NvmeChecksum implements Checksum {
  readonly #crc = new Crc64Nvme();
  update(data: Uint8Array): void {
    this.#crc.update(data);
  }
  digestBase64(): string {
    return this.#crc.digest().toString("base64");
  }
}

class HashChecksum implements Checksum {
  readonly #hash;
  constructor(algorithm: "sha1" | "sha256") {
    this.#hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digestBase64(): string {
    return this.#hash.digest("base64");
  }
}

function uint32Base64(value: number): string {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out.toString("base64");
}
