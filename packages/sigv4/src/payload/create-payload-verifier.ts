/**
 * Checks of a plain (non-aws-chunked) request body while it streams (docs/s3-sigv4.md "x-amz-content-sha256",
 * "Checksums", "Hold-back"):
 * the hex `x-amz-content-sha256`, Content-MD5, `x-amz-checksum-*` headers and the length, with the hold-back
 * of `BodyVerifier`.
 */

import { S3Error } from "@osp/errors";
import type { BodyVerifier, Emit } from "./body-verifier.js";
import { type DeclaredDigestOptions, DeclaredDigests } from "./declared-digests.js";
import { HeldBackTail } from "./held-back-tail.js";

export interface PayloadVerifierOptions extends DeclaredDigestOptions {
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

  readonly #expectedLength: number | null;
  readonly #digests: DeclaredDigests;
  readonly #tail: HeldBackTail;
  #failure: S3Error | null = null;

  constructor(options: PayloadVerifierOptions) {
    const length = options.expectedLength;
    if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new TypeError("expectedLength must be a non-negative safe integer");
    }
    this.#expectedLength = length ?? null;
    this.#digests = new DeclaredDigests(options);
    this.#tail = new HeldBackTail(this.#expectedLength);
  }

  get heldBackBytes(): number {
    return this.#tail.heldBytes;
  }

  write(chunk: Buffer, emit: Emit): void {
    if (this.#failure !== null) throw this.#failure;
    if (chunk.length === 0) return;
    try {
      const expected = this.#expectedLength;
      if (this.complete || (expected !== null && this.decodedBytes + chunk.length > expected)) {
        throw new S3Error("IncompleteBody", "The body is longer than its Content-Length.");
      }
      this.#digests.update(chunk);
      this.#tail.pass(chunk, this.decodedBytes, emit);
      this.decodedBytes += chunk.length;
      if (this.decodedBytes === expected) this.#verdict();
    } catch (error) {
      this.#failure =
        error instanceof S3Error
          ? error
          : new S3Error("InternalError", undefined, { cause: error, source: "internal" });
      throw this.#failure;
    }
  }

  end(emit: Emit): void {
    if (this.#failure !== null) throw this.#failure;
    try {
      if (!this.complete) {
        if (this.#expectedLength !== null && this.decodedBytes !== this.#expectedLength)
          throw new S3Error("IncompleteBody");
        this.#verdict();
      }
      this.#tail.release(emit);
    } catch (error) {
      this.#failure =
        error instanceof S3Error
          ? error
          : new S3Error("InternalError", undefined, { cause: error, source: "internal" });
      throw this.#failure;
    }
  }

  #verdict(): void {
    this.#digests.verify();
    this.complete = true;
  }
}
