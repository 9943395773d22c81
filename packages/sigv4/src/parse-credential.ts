import type { CredentialScope } from "./types.js";

/** Most names accepted in `SignedHeaders` (a request has far fewer headers; this only bounds hostile input). */
const MAX_SIGNED_HEADERS = 256;

/** Longest credential accepted: access key ids are ≤ 128 characters, regions and services short. */
const MAX_CREDENTIAL_CHARS = 512;

/**
 * Splits `<AKID>/<yyyymmdd>/<region>/<service>/aws4_request` (docs/s3-sigv4.md "The Authorization header",
 * "Presigned URLs"). Returns the access key and scope, or a reason (text) when it does not have exactly five
 * non-empty parts, an 8-digit date and the `aws4_request` terminator. Whether service and region are
 * acceptable is the caller's decision.
 */
export function parseCredential(
  text: string,
): { accessKeyId: string; scope: CredentialScope } | { reason: "malformed" | "terminator"; found: string } {
  if (text.length > MAX_CREDENTIAL_CHARS) return { reason: "malformed", found: "" };
  const s1 = text.indexOf("/");
  const s2 = s1 < 0 ? -1 : text.indexOf("/", s1 + 1);
  const s3 = s2 < 0 ? -1 : text.indexOf("/", s2 + 1);
  const s4 = s3 < 0 ? -1 : text.indexOf("/", s3 + 1);
  if (s4 < 0 || text.indexOf("/", s4 + 1) !== -1) return { reason: "malformed", found: "" };
  if (s1 === 0 || s2 - s1 !== 9 || s3 - s2 < 2 || s4 - s3 < 2 || s4 === text.length - 1) {
    return { reason: "malformed", found: "" };
  }
  for (let i = s1 + 1; i < s2; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return { reason: "malformed", found: "" };
  }
  const terminator = text.slice(s4 + 1);
  if (terminator !== "aws4_request") return { reason: "terminator", found: terminator };
  return {
    accessKeyId: text.slice(0, s1),
    scope: { date: text.slice(s1 + 1, s2), region: text.slice(s2 + 1, s3), service: text.slice(s3 + 1, s4) },
  };
}

/**
 * Splits `SignedHeaders` (`host;range;x-amz-date`) into names, keeping the client's order (it signed its
 * canonical headers in that order). `null` when it is empty, has an empty name or more than
 * `MAX_SIGNED_HEADERS` names.
 */
export function parseSignedHeaders(text: string): string[] | null {
  if (text.length === 0) return null;
  const names: string[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(";", start);
    if (end === -1) end = text.length;
    if (end === start || names.length === MAX_SIGNED_HEADERS) return null;
    names.push(text.slice(start, end));
    start = end + 1;
  }
  return names;
}
