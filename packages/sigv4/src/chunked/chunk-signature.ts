/**
 * The string-to-sign and HMAC of each aws-chunked chunk and of the signed trailer (docs/s3-sigv4.md "Chunk
 * signatures"). The signing key is the one of the seed (header) signature, passed in; nothing here derives
 * keys.
 */
import { createHmac } from "node:crypto";
import type { CredentialScope } from "../types.js";
import { EMPTY_SHA256_HEX } from "./chunk-signature-chain.js";

/** What a signed aws-chunked body is checked against: the seed request's key, date, scope and signature. */
export interface ChunkSigning {
  readonly signingKey: Buffer;
  /** `x-amz-date` of the seed request, `yyyymmddThhmmssZ`. */
  readonly amzDate: string;
  readonly scope: CredentialScope;
  /** The seed (header) signature, 64 lower-case hex: the "previous signature" of the first chunk. */
  readonly seedSignature: string;
}

/** `<date>/<region>/<service>/aws4_request` */
function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/** `AWS4-HMAC-SHA256-PAYLOAD\n<amzDate>\n<scope>\n<previous>\n<sha256("")>\n<sha256(chunk)>`. */
export function chunkStringToSign(
  amzDate: string,
  scope: CredentialScope,
  previousSignature: string,
  chunkSha256Hex: string,
): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scopeString(scope)}\n${previousSignature}\n${EMPTY_SHA256_HEX}\n${chunkSha256Hex}`;
}

/** `AWS4-HMAC-SHA256-TRAILER\n<amzDate>\n<scope>\n<signature of the 0-chunk>\n<sha256(trailer text)>`. */
export function trailerStringToSign(
  amzDate: string,
  scope: CredentialScope,
  lastChunkSignature: string,
  trailerSha256Hex: string,
): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scopeString(scope)}\n${lastChunkSignature}\n${trailerSha256Hex}`;
}

/** hex(HMAC-SHA256(signingKey, stringToSign)): a chunk or trailer signature. */
export function signStringToSign(signingKey: Buffer, stringToSign: string): string {
  return createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
}
