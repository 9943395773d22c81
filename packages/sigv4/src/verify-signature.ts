import { timingSafeEqual } from "node:crypto";
import { S3Error } from "@osp/errors";
import { buildCanonicalRequest } from "./canonical-request.js";
import { hmacSha256Hex } from "./sha256.js";
import { buildStringToSign } from "./string-to-sign.js";
import type { AuthenticatedRequest } from "./types.js";

/**
 * Scratch space for the comparison, reused by every call (synchronous, one thread): it spares two Buffer
 * allocations per request.
 */
const EXPECTED = Buffer.alloc(64);
const PROVIDED = Buffer.alloc(64);

/**
 * A well-formed signature: 64 lower-case hex digits. Anything else cannot match, and must not reach the
 * latin1 writes in `verifySignature`, which keep only the low byte of each character.
 */
function isLowerHex64(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Space-separated lower-case hex of the UTF-8 bytes of `text`, as S3's `*Bytes` error fields. */
function spacedHex(text: string): string {
  const hex = Buffer.from(text, "utf8").toString("hex");
  let out = "";
  for (let i = 0; i < hex.length; i += 2) out += i === 0 ? hex.slice(0, 2) : ` ${hex.slice(i, i + 2)}`;
  return out;
}

/**
 * Verifies the signature of a request `authenticateRequest` accepted, with the signing key of its access key
 * and scope (from `SigningKeyCache.get`): builds the canonical request and string to sign, HMACs, and compares
 * in constant time (`timingSafeEqual` on two 64-byte buffers; whether the provided signature is well formed
 * is public and checked first). Returns `null` when the signature matches, else 403 SignatureDoesNotMatch with
 * S3's fields (docs/s3-sigv4.md "Verification order"): AWSAccessKeyId, StringToSign, SignatureProvided,
 * StringToSignBytes, and, only with `exposeCanonicalRequest` (default false: it reveals how the gateway reads
 * the request), CanonicalRequest and CanonicalRequestBytes. `plusInPathIsSpace` re-derives the canonical URI
 * under that rule; by default the one computed by `authenticateRequest` is used.
 */
export function verifySignature(
  auth: AuthenticatedRequest,
  signingKey: Buffer,
  options?: { plusInPathIsSpace?: boolean; exposeCanonicalRequest?: boolean },
): S3Error | null {
  const canonicalRequest = buildCanonicalRequest(auth, options);
  if (typeof canonicalRequest !== "string") return canonicalRequest;
  const stringToSign = buildStringToSign(canonicalRequest, auth.amzDate, auth.scope);
  const expected = hmacSha256Hex(signingKey, stringToSign);
  const provided = auth.signature;
  if (isLowerHex64(provided)) {
    EXPECTED.write(expected, 0, "latin1");
    PROVIDED.write(provided, 0, "latin1");
    if (timingSafeEqual(EXPECTED, PROVIDED)) return null;
  }
  const fields: Array<readonly [string, string]> = [
    ["AWSAccessKeyId", auth.accessKeyId],
    ["StringToSign", stringToSign],
    ["SignatureProvided", provided],
    ["StringToSignBytes", spacedHex(stringToSign)],
  ];
  if (options?.exposeCanonicalRequest === true) {
    fields.push(
      ["CanonicalRequest", canonicalRequest],
      ["CanonicalRequestBytes", spacedHex(canonicalRequest)],
    );
  }
  return new S3Error("SignatureDoesNotMatch", undefined, { fields });
}
