/**
 * The digests a request declares in its headers for its (decoded) body: the hex `x-amz-content-sha256`,
 * Content-MD5 and `x-amz-checksum-*` (docs/s3-sigv4.md "Checksums"). Fed the body's bytes, then asked for a
 * verdict. Shared by the plain-body verifier and the aws-chunked decoder (whose header checksums cover the
 * decoded data, like its trailers).
 */
import { createHash, type Hash } from "node:crypto";
import { S3Error } from "@osp/errors";
import {
  type Checksum,
  checkChecksumValue,
  checksumMismatchError,
  createChecksum,
} from "../checksum/create-checksum.js";
import type { ChecksumAlgorithm } from "../types.js";
import { parseContentMd5 } from "./content-md5.js";

export interface DeclaredDigestOptions {
  /** Hex sha256 from `x-amz-content-sha256` (either case). */
  readonly sha256Hex?: string;
  /** The Content-MD5 header value. */
  readonly contentMd5Base64?: string;
  /** Values of `x-amz-checksum-*` request headers. */
  readonly checksums?: ReadonlyArray<{ readonly algorithm: ChecksumAlgorithm; readonly base64: string }>;
}

export class DeclaredDigests {
  readonly #sha256Hex: string | null;
  readonly #sha256: Hash | null;
  readonly #md5Expected: Buffer | null;
  readonly #md5: Hash | null;
  readonly #checksums: ReadonlyArray<{
    algorithm: ChecksumAlgorithm;
    base64: string;
    checksum: Checksum;
  }>;

  /** Throws before any byte when a value is malformed: Content-MD5 → 400 InvalidDigest, checksum → 400 InvalidRequest. */
  constructor(options: DeclaredDigestOptions) {
    this.#sha256Hex = options.sha256Hex?.toLowerCase() ?? null;
    this.#sha256 = this.#sha256Hex === null ? null : createHash("sha256");
    this.#md5Expected =
      options.contentMd5Base64 === undefined ? null : parseContentMd5(options.contentMd5Base64);
    this.#md5 = this.#md5Expected === null ? null : createHash("md5");
    this.#checksums = (options.checksums ?? []).map(({ algorithm, base64 }) => {
      checkChecksumValue(algorithm, base64);
      return { algorithm, base64, checksum: createChecksum(algorithm) };
    });
  }

  /** Whether any digest was declared (no work at all otherwise). */
  get any(): boolean {
    return this.#sha256 !== null || this.#md5 !== null || this.#checksums.length > 0;
  }

  update(chunk: Uint8Array): void {
    this.#sha256?.update(chunk);
    this.#md5?.update(chunk);
    for (const { checksum } of this.#checksums) checksum.update(chunk);
  }

  /**
   * Throws the first mismatch, in this order: sha256 → 400 XAmzContentSHA256Mismatch
   * (`ClientComputedContentSHA256`, `S3ComputedContentSHA256`); Content-MD5 → 400 BadDigest (`ExpectedDigest`
   * hex, `CalculatedDigest` base64); checksum → 400 BadDigest "The CRC32 you specified did not match the
   * calculated checksum.". Call once, after the last byte.
   */
  verify(): void {
    if (this.#sha256 !== null) {
      const computed = this.#sha256.digest("hex");
      if (computed !== this.#sha256Hex) {
        throw new S3Error("XAmzContentSHA256Mismatch", undefined, {
          fields: [
            ["ClientComputedContentSHA256", this.#sha256Hex ?? ""],
            ["S3ComputedContentSHA256", computed],
          ],
        });
      }
    }
    if (this.#md5 !== null && this.#md5Expected !== null) {
      const computed = this.#md5.digest();
      if (!computed.equals(this.#md5Expected)) {
        throw new S3Error("BadDigest", undefined, {
          fields: [
            ["ExpectedDigest", this.#md5Expected.toString("hex")],
            ["CalculatedDigest", computed.toString("base64")],
          ],
        });
      }
    }
    for (const { algorithm, base64, checksum } of this.#checksums) {
      if (checksum.digestBase64() !== base64) throw checksumMismatchError(algorithm);
    }
  }
}
