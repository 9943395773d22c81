import type { PayloadMode } from "./types.js";

const UNSIGNED: PayloadMode = Object.freeze({ kind: "unsigned" });
const STREAMING_SIGNED: PayloadMode = Object.freeze({ kind: "streaming-signed" });
const STREAMING_SIGNED_TRAILER: PayloadMode = Object.freeze({ kind: "streaming-signed-trailer" });
const STREAMING_UNSIGNED_TRAILER: PayloadMode = Object.freeze({ kind: "streaming-unsigned-trailer" });

/**
 * The payload mode of a presigned request without `x-amz-content-sha256` (docs/s3-sigv4.md "Presigned URLs").
 */
export const UNSIGNED_PAYLOAD_MODE = UNSIGNED;

function isHex64(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i) | 0x20; // folds A-F onto a-f
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * Reads an `x-amz-content-sha256` value (docs/s3-sigv4.md "x-amz-content-sha256"): 64 hex digits (the body's
 * SHA-256, returned in lower case), `UNSIGNED-PAYLOAD`, or one of the three aws-chunked modes. Anything else,
 * the SigV4a `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]` modes included, is `null`.
 */
export function parsePayloadMode(value: string): PayloadMode | null {
  switch (value) {
    case "UNSIGNED-PAYLOAD":
      return UNSIGNED;
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
      return STREAMING_SIGNED;
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
      return STREAMING_SIGNED_TRAILER;
    case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
      return STREAMING_UNSIGNED_TRAILER;
  }
  if (!isHex64(value)) return null;
  return { kind: "sha256", sha256Hex: value.toLowerCase() };
}
