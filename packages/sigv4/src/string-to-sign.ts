import { sha256Hex } from "./sha256.js";
import type { CredentialScope } from "./types.js";

/** The only signing algorithm accepted (SigV4a is refused, docs/s3-sigv4.md "SigV4a"). */
export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

/** `<yyyymmdd>/<region>/<service>/aws4_request`: the scope line of every string to sign. */
export function formatCredentialScope(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

/**
 * The SigV4 string to sign (docs/s3-sigv4.md "String to sign and signing key"):
 * `AWS4-HMAC-SHA256\n<amzDate>\n<date>/<region>/<service>/aws4_request\n<hex(sha256(canonicalRequest))>`.
 */
export function buildStringToSign(canonicalRequest: string, amzDate: string, scope: CredentialScope): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${formatCredentialScope(scope)}\n${sha256Hex(canonicalRequest)}`;
}
