/**
 * Checks of a plain (non-aws-chunked) request body while it streams (protocol.md §1.6, §3.4, §3.6, §8):
 * the hex `x-amz-content-sha256`, Content-MD5, `x-amz-checksum-*` headers and the length, with the hold-back
 * of `BodyVerifier`.
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
import type { BodyVerifier, Emit } from "./body-verifier.js";
import { parseContentMd5 } from "./content-md5.js";
import { HeldBackTail } from "./held-back-tail.js";

export interface PayloadVerifierOptions {
  /** Hex sha256 from `x-amz-content-sha256` (either case). */
  readonly sha256Hex?: string;
  /** The Content-MD5 header value. */
  readonly contentMd5Base64?: string;
  /** Values of `x-amz-checksum-*` request headers. */
  readonly checksums?: ReadonlyArray<{ readonly algorithm: ChecksumAlgorithm; readonly base64: string }>;
  /** Content-Length; absent when unknown (the held-back tail then rolls). */
  readonly expectedLength?: number;
}

/**
 * Creates the verifier of one plain body. Throws before any byte when a header value is malformed:
 * Content-MD5 → 400 InvalidDigest, x-amz-checksum-* → 400 InvalidRequest.
 *
 * Verdicts (first failure wins, in this order), from `write` as soon as `expectedLength` bytes arrived, else
 * from `end`: fewer bytes than expected → 400 IncompleteBody (more → IncompleteBody from `write`); sha256 →
 * 400 XAmzContentSHA256Mismatch (`ClientComputedContentSHA256`, `S3ComputedContentSHA256`); Content-MD5 → 400
 * BadDigest (`ExpectedDigest` hex, `CalculatedDigest` base64); checksum → 400 BadDigest "The CRC32 you specified
 * did not match the calculated checksum.".
 */
export function createPayloadVerifier(options: PayloadVerifierOptions): BodyVerifier {
  return new PayloadVerifier(options);
}

class PayloadVerifier implements BodyVerifier {
  decodedBytes = 0;
  complete = false;

  private readonly expectedLength: number | null;
  private readonly sha256Hex: string | null;
  private readonly sha256: Hash | null;
  private readonly md5Expected: Buffer | null;
  private readonly md5: Hash | null;
  private readonly checksums: ReadonlyArray<{
    algorithm: ChecksumAlgorithm;
    base64: string;
    checksum: Checksum;
  }>;
  private readonly tail: HeldBackTail;
  private failure: S3Error | null = null;

  constructor(options: PayloadVerifierOptions) {
    const length = options.expectedLength;
    if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new TypeError("expectedLength must be a non-negative safe integer");
    }
    this.expectedLength = length ?? null;
    this.sha256Hex = options.sha256Hex?.toLowerCase() ?? null;
    this.sha256 = this.sha256Hex === null ? null : createHash("sha256");
    this.md5Expected =
      options.contentMd5Base64 === undefined ? null : parseContentMd5(options.contentMd5Base64);
    this.md5 = this.md5Expected === null ? null : createHash("md5");
    this.checksums = (options.checksums ?? []).map(({ algorithm, base64 }) => {
      checkChecksumValue(algorithm, base64);
      return { algorithm, base64, checksum: createChecksum(algorithm) };
    });
    this.tail = new HeldBackTail(this.expectedLength);
  }

  get heldBackBytes(): number {
    return this.tail.heldBytes;
  }

  write(chunk: Buffer, emit: Emit): void {
    if (this.failure !== null) throw this.failure;
    if (chunk.length === 0) return;
    try {
      const expected = this.expectedLength;
      if (this.complete || (expected !== null && this.decodedBytes + chunk.length > expected)) {
        throw new S3Error("IncompleteBody", "The body is longer than its Content-Length.");
      }
      this.sha256?.update(chunk);
      this.md5?.update(chunk);
      for (const { checksum } of this.checksums) checksum.update(chunk);
      this.tail.pass(chunk, this.decodedBytes, emit);
      this.decodedBytes += chunk.length;
      if (this.decodedBytes === expected) this.verdict();
    } catch (error) {
      this.failure =
        error instanceof S3Error
          ? error
          : new S3Error("InternalError", undefined, { cause: error, source: "internal" });
      throw this.failure;
    }
  }

  end(emit: Emit): void {
    if (this.failure !== null) throw this.failure;
    try {
      if (!this.complete) {
        if (this.expectedLength !== null && this.decodedBytes !== this.expectedLength)
          throw new S3Error("IncompleteBody");
        this.verdict();
      }
      this.tail.release(emit);
    } catch (error) {
      this.failure =
        error instanceof S3Error
          ? error
          : new S3Error("InternalError", undefined, { cause: error, source: "internal" });
      throw this.failure;
    }
  }

  private verdict(): void {
    if (this.sha256 !== null) {
      const computed = this.sha256.digest("hex");
      if (computed !== this.sha256Hex) {
        throw new S3Error("XAmzContentSHA256Mismatch", undefined, {
          fields: [
            ["ClientComputedContentSHA256", this.sha256Hex ?? ""],
            ["S3ComputedContentSHA256", computed],
          ],
        });
      }
    }
    if (this.md5 !== null && this.md5Expected !== null) {
      const computed = this.md5.digest();
      if (!computed.equals(this.md5Expected)) {
        throw new S3Error("BadDigest", undefined, {
          fields: [
            ["ExpectedDigest", this.md5Expected.toString("hex")],
            ["CalculatedDigest", computed.toString("base64")],
          ],
        });
      }
    }
    for (const { algorithm, base64, checksum } of this.checksums) {
      if (checksum.digestBase64() !== base64) throw checksumMismatchError(algorithm);
    }
    this.complete = true;
  }
}
