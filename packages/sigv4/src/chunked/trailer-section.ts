/**
 * The trailer section after the terminal chunk (docs/s3-sigv4.md "Trailers"): `name:value` lines, in
 * signed-trailer mode ended by `x-amz-trailer-signature`, then an empty line. Lines arrive one by one
 * (without CRLF) from the decoder; `verify` gives the verdict once the section has ended.
 *
 * Error codes (S3 documents none for these; implementations answer MalformedTrailerError or InvalidRequest;
 * we pick the former for every structural trailer problem, as MinIO does): unannounced, duplicated,
 * missing-announced or unparsable trailer, missing trailer signature, oversized section → 400
 * MalformedTrailerError. Wrong trailer signature → 403 SignatureDoesNotMatch. Checksum trailer ≠ decoded data
 * → 400 BadDigest.
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { S3Error } from "@osp/errors";
import {
  type Checksum,
  checksumAlgorithmOfHeader,
  checksumMismatchError,
  createChecksum,
} from "../checksum/create-checksum.js";
import type { ChecksumAlgorithm } from "../types.js";
import { type ChunkSigning, trailerStringToSign } from "./chunk-signature.js";
import { isHex } from "./parse-chunk-header.js";

const TRAILER_SIGNATURE_NAME = "x-amz-trailer-signature";

/** One announced `x-amz-checksum-*` trailer and the running checksum of the decoded data it is checked against. */
export interface ChecksumTrailer {
  readonly name: string;
  readonly algorithm: ChecksumAlgorithm;
  readonly checksum: Checksum;
}

export class TrailerSection {
  /** Trailers received, in order, names lower-cased, values trimmed; never the trailer signature. */
  readonly trailers: Array<readonly [string, string]> = [];
  /** Running checksums of the data, one per announced checksum trailer (the decoder feeds them). */
  readonly checksums: readonly ChecksumTrailer[];
  /** Lines seen so far, the signature line included. */
  lineCount = 0;
  /** Bytes of text kept (trailers + the text to hash), for the memory bound. */
  keptBytes = 0;

  readonly #announced: ReadonlySet<string>;
  readonly #signing: ChunkSigning | null;
  #signature: string | null = null;
  #signedText = "";

  /**
   * `announced`: lower-case names from x-amz-trailer. `signing`: non-null in signed-trailer mode.
   * Throws 400 InvalidRequest for an announced `x-amz-checksum-*` of an unknown algorithm (before the body).
   */
  constructor(announced: readonly string[], signing: ChunkSigning | null) {
    const names = new Set<string>();
    const checksums: ChecksumTrailer[] = [];
    for (const raw of announced) {
      const name = raw.trim().toLowerCase();
      if (name === "" || names.has(name)) continue;
      if (
        name === TRAILER_SIGNATURE_NAME ||
        (name.startsWith("x-amz-checksum-") && checksumAlgorithmOfHeader(name) === null)
      ) {
        throw new S3Error(
          "InvalidRequest",
          `The value specified in the x-amz-trailer header is not supported: ${name}`,
        );
      }
      names.add(name);
      const algorithm = checksumAlgorithmOfHeader(name);
      if (algorithm !== null) checksums.push({ name, algorithm, checksum: createChecksum(algorithm) });
    }
    this.#announced = names;
    this.checksums = checksums;
    this.#signing = signing;
  }

  /** Whether a body must carry a non-empty trailer section (announced trailers, or a trailer signature). */
  get expectsLines(): boolean {
    return this.#announced.size > 0 || this.#signing !== null;
  }

  /** Takes one non-empty trailer line (CRLF removed). */
  addLine(line: string): void {
    this.lineCount++;
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformedTrailer("a trailer line is not name:value");
    const name = trimOws(line.slice(0, colon)).toLowerCase();
    const value = trimOws(line.slice(colon + 1));
    if (name === TRAILER_SIGNATURE_NAME) {
      if (this.#signing === null) throw malformedTrailer("x-amz-trailer-signature in an unsigned body");
      if (this.#signature !== null) throw malformedTrailer("x-amz-trailer-signature appears twice");
      if (value.length !== 64 || !isHex(value, 0, 64))
        throw malformedTrailer("x-amz-trailer-signature is not 64 hex");
      this.#signature = value.toLowerCase();
      return;
    }
    if (this.#signature !== null) throw malformedTrailer("a trailer follows x-amz-trailer-signature");
    if (!this.#announced.has(name)) throw malformedTrailer("a trailer was not announced in x-amz-trailer");
    for (const [seen] of this.trailers)
      if (seen === name) throw malformedTrailer(`trailer ${name} appears twice`);
    this.trailers.push([name, value]);
    // The signed text is `name:value\n` per trailer, LF only (docs/s3-sigv4.md "Chunk signatures"), in
    // received order.
    const text = `${name}:${value}\n`;
    if (this.#signing !== null) this.#signedText += text;
    this.keptBytes += text.length * (this.#signing !== null ? 2 : 1);
  }

  /**
   * The verdict once the section ended: trailer signature (chained on the 0-chunk's), announced trailers
   * present, checksums equal to the decoded data's. Throws the S3Error of the first failure.
   */
  verify(lastChunkSignature: string | null): void {
    if (this.#signing !== null) {
      if (this.#signature === null) throw malformedTrailer("x-amz-trailer-signature is missing");
      const textHash = createHash("sha256").update(this.#signedText, "latin1").digest("hex");
      const { signingKey, amzDate, scope } = this.#signing;
      const stringToSign = trailerStringToSign(amzDate, scope, lastChunkSignature ?? "", textHash);
      const expected = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest();
      if (!timingSafeEqual(expected, Buffer.from(this.#signature, "hex")))
        throw new S3Error("SignatureDoesNotMatch");
    }
    for (const name of this.#announced) {
      if (!this.trailers.some(([seen]) => seen === name)) {
        throw malformedTrailer(`trailer ${name} was announced in x-amz-trailer but not sent`);
      }
    }
    for (const { name, algorithm, checksum } of this.checksums) {
      const sent = this.trailers.find(([seen]) => seen === name)?.[1];
      if (sent !== checksum.digestBase64()) throw checksumMismatchError(algorithm);
    }
  }
}

/** 400 MalformedTrailerError, with what was wrong. */
export function malformedTrailer(what: string): S3Error {
  return new S3Error(
    "MalformedTrailerError",
    `The request contained trailing data that was not well-formed or did not conform to our published schema: ${what}.`,
  );
}

/** Trims HTTP optional whitespace (SP, HTAB) only; `String#trim` would also eat bytes such as 0xA0. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
