import { timingSafeEqual } from "node:crypto";
import { S3Error } from "@osp/errors";
import { signStringV2 } from "./string-to-sign-v2.js";
import type { AuthenticatedRequest } from "./types.js";

/** A SigV2 signature: base64 of a 20-byte HMAC-SHA1, always 28 characters. */
const SIGNATURE_CHARS = 28;

/** Scratch buffers of the comparison (synchronous, one thread), as in `verifySignature`. */
const EXPECTED = Buffer.alloc(SIGNATURE_CHARS);
const PROVIDED = Buffer.alloc(SIGNATURE_CHARS);

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Verifies a SigV2 request `authenticateRequest` accepted (`signatureVersion` 2) with the secret of its
 * access key: `Base64(HMAC-SHA1(secret, stringToSignV2))` against the signature sent, in constant time
 * (`timingSafeEqual` over 28 bytes; whether the provided value has the right length and is ASCII is public
 * and checked first). SigV2 keys the HMAC with the secret itself, so there is no signing key to derive or
 * cache: the verify pool runs this inline. Returns `null` on a match, else 403 SignatureDoesNotMatch with
 * S3's fields (AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes).
 */
export function verifySignatureV2(auth: AuthenticatedRequest, secretAccessKey: string): S3Error | null {
  const stringToSign = auth.stringToSignV2;
  if (auth.signatureVersion !== 2 || stringToSign === null) {
    return new S3Error("SignatureDoesNotMatch", "The request is not signed with Signature Version 2.");
  }
  const expected = signStringV2(secretAccessKey, stringToSign);
  const provided = auth.signature;
  if (provided.length === SIGNATURE_CHARS && isAscii(provided)) {
    EXPECTED.write(expected, 0, "latin1");
    PROVIDED.write(provided, 0, "latin1");
    if (timingSafeEqual(EXPECTED, PROVIDED)) return null;
  }
  return new S3Error("SignatureDoesNotMatch", undefined, {
    fields: [
      ["AWSAccessKeyId", auth.accessKeyId],
      ["StringToSign", stringToSign],
      ["SignatureProvided", provided],
      ["StringToSignBytes", spacedHex(stringToSign)],
    ],
  });
}

/** Space-separated lower-case hex of the UTF-8 bytes of `text`, as S3's `StringToSignBytes`. */
function spacedHex(text: string): string {
  const hex = Buffer.from(text, "utf8").toString("hex");
  let out = "";
  for (let i = 0; i < hex.length; i += 2) out += i === 0 ? hex.slice(0, 2) : ` ${hex.slice(i, i + 2)}`;
  return out;
}
