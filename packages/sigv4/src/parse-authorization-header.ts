import type { S3Error } from "@osp/errors";
import {
  CREDENTIAL_MALFORMED,
  headerMalformed,
  mechanismNotSupported,
  unsupportedAuthorizationType,
} from "./auth-errors.js";
import { parseCredential, parseSignedHeaders } from "./parse-credential.js";
import type { CredentialScope } from "./types.js";

/** The three components of a SigV4 `Authorization` header. */
export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scope: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Longest `Authorization` value parsed; real ones are ~200–1000 characters (S3 caps all headers at 8 KiB). */
export const MAX_AUTHORIZATION_CHARS = 16 * 1024;

const ALGORITHM = "AWS4-HMAC-SHA256";

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request, SignedHeaders=<h1;h2>,
 * Signature=<hex>` (docs/s3-sigv4.md "The Authorization header"). Components may come in any order, separated
 * by `,` or `, `; a missing, repeated or unknown component is 400 AuthorizationHeaderMalformed, as are a bad
 * credential and an over-long value. Other schemes are refused as S3 refuses them: SigV2 (`AWS AKID:sig`) and
 * SigV4a (`AWS4-ECDSA-P256-SHA256`) with 400 InvalidRequest, anything else (`Bearer …`) with 400
 * InvalidArgument "Unsupported Authorization Type". The work is linear in the value and stops after four
 * components. Checking the scope against the request (date, region, service) is `authenticateRequest`'s job.
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorization | S3Error {
  const text = value.trim();
  let schemeEnd = 0;
  while (schemeEnd < text.length && !isBlank(text.charCodeAt(schemeEnd))) schemeEnd++;
  // Compared in place: the scheme is only cut out of the text when it is not the expected one.
  if (schemeEnd !== ALGORITHM.length || !text.startsWith(ALGORITHM)) {
    const scheme = text.slice(0, schemeEnd);
    if (scheme === "AWS" || scheme === "AWS4-ECDSA-P256-SHA256") return mechanismNotSupported();
    return unsupportedAuthorizationType(text);
  }
  if (text.length > MAX_AUTHORIZATION_CHARS) return headerMalformed("the header is too long.");

  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let start = schemeEnd;
  for (let count = 0; start <= text.length; count++) {
    if (count === 3) return headerMalformed("it has more than three components.");
    let end = text.indexOf(",", start);
    if (end === -1) end = text.length;
    // Trim the component in place and compare its name where it stands: no substrings but the values.
    let first = start;
    while (first < end && isBlank(text.charCodeAt(first))) first++;
    let last = end;
    while (last > first && isBlank(text.charCodeAt(last - 1))) last--;
    start = end + 1;
    let eq = text.indexOf("=", first);
    if (eq === -1 || eq > last) eq = last;
    const content = eq < last ? text.slice(eq + 1, last) : "";
    const nameLength = eq - first;
    if (nameLength === 10 && text.startsWith("Credential", first)) {
      if (credential !== undefined) return headerMalformed("the Credential component appears twice.");
      credential = content;
    } else if (nameLength === 13 && text.startsWith("SignedHeaders", first)) {
      if (signedHeaders !== undefined) return headerMalformed("the SignedHeaders component appears twice.");
      signedHeaders = content;
    } else if (nameLength === 9 && text.startsWith("Signature", first)) {
      if (signature !== undefined) return headerMalformed("the Signature component appears twice.");
      signature = content;
    } else {
      return headerMalformed(`unexpected component "${text.slice(first, Math.min(eq, first + 64))}".`);
    }
  }
  if (credential === undefined) return headerMalformed("missing Credential.");
  if (signedHeaders === undefined) return headerMalformed("missing SignedHeaders.");
  if (signature === undefined || signature.length === 0) return headerMalformed("missing Signature.");

  const parsed = parseCredential(credential);
  if ("reason" in parsed) {
    if (parsed.reason === "terminator") {
      return headerMalformed(
        `incorrect terminal "${parsed.found.slice(0, 64)}". This endpoint uses "aws4_request".`,
      );
    }
    return headerMalformed(CREDENTIAL_MALFORMED);
  }
  const names = parseSignedHeaders(signedHeaders);
  if (names === null) return headerMalformed("the SignedHeaders component is empty or malformed.");
  return { accessKeyId: parsed.accessKeyId, scope: parsed.scope, signedHeaders: names, signature };
}
