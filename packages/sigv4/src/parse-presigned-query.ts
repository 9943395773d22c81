import { S3Error } from "@osp/errors";
import { parseAmzDate } from "./amz-date.js";
import { CREDENTIAL_MALFORMED, mechanismNotSupported, queryMalformed } from "./auth-errors.js";
import { parseQueryParams, type QueryParam } from "./canonical-query.js";
import { parseCredential, parseSignedHeaders } from "./parse-credential.js";
import type { CredentialScope } from "./types.js";
import { percentDecode } from "./uri-encode.js";

/** The authentication parameters of a presigned URL, decoded. */
export interface ParsedPresign {
  readonly accessKeyId: string;
  readonly scope: CredentialScope;
  /** `X-Amz-Date` as sent (`yyyyMMdd'T'HHmmss'Z'`) and as ms since the epoch. */
  readonly amzDate: string;
  readonly requestTimeMs: number;
  readonly expiresSeconds: number;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly securityToken: string | null;
}

/** S3's cap on `X-Amz-Expires`: seven days (docs/s3-sigv4.md "Presigned URLs"). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604_800;

const MISSING =
  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

const NAMES = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
] as const;

/** Does this canonical parameter name ask for presigned (SigV4 query) authentication? */
export function isPresignParam(name: string): boolean {
  return name === "X-Amz-Algorithm" || name === "X-Amz-Credential" || name === "X-Amz-Signature";
}

/** Does this canonical parameter name ask for SigV2 query authentication (`AWSAccessKeyId`, `Signature`)? */
export function isSigV2Param(name: string): boolean {
  return name === "AWSAccessKeyId" || name === "Signature";
}

/**
 * Parses the SigV4 query parameters of a presigned URL (docs/s3-sigv4.md "Presigned URLs") from a raw query
 * string. See `parsePresignParams`; a malformed percent-escape in the query is 400 InvalidURI.
 */
export function parsePresignedQuery(
  rawQuery: string,
  options?: { maxExpiresSeconds?: number },
): ParsedPresign | S3Error {
  const params = parseQueryParams(rawQuery);
  if (params === null) return new S3Error("InvalidURI");
  return parsePresignParams(params, options?.maxExpiresSeconds ?? MAX_PRESIGN_EXPIRES_SECONDS);
}

/**
 * Parses the presign parameters out of canonical query parameters. All six of `X-Amz-Algorithm`
 * (`AWS4-HMAC-SHA256`), `X-Amz-Credential`, `X-Amz-Date` (`yyyyMMdd'T'HHmmss'Z'`), `X-Amz-Expires`
 * (1..maxExpiresSeconds), `X-Amz-SignedHeaders` and `X-Amz-Signature` must appear exactly once, else 400
 * AuthorizationQueryParametersError; `X-Amz-Security-Token` is optional. SigV2 parameters without SigV4 ones,
 * and the SigV4a algorithm, are 400 InvalidRequest. Relating the scope to the request is
 * `authenticateRequest`'s job.
 */
export function parsePresignParams(
  params: readonly QueryParam[],
  maxExpiresSeconds: number,
): ParsedPresign | S3Error {
  const found: Array<string | undefined> = new Array(NAMES.length).fill(undefined);
  let sigV2 = false;
  for (const param of params) {
    const index = (NAMES as readonly string[]).indexOf(param.name);
    if (index < 0) {
      if (isSigV2Param(param.name)) sigV2 = true;
      continue;
    }
    if (found[index] !== undefined) return queryMalformed(`${param.name} must appear only once.`);
    const decoded = percentDecode(param.value);
    if (decoded === null) return new S3Error("InvalidURI");
    found[index] = decoded;
  }
  const [algorithm, credential, amzDate, expires, signedHeaders, signature, securityToken] = found;
  if (algorithm === undefined && credential === undefined && signature === undefined && sigV2) {
    return mechanismNotSupported();
  }
  if (algorithm === "AWS4-ECDSA-P256-SHA256") return mechanismNotSupported();
  if (
    algorithm === undefined ||
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    signature.length === 0
  ) {
    return queryMalformed(MISSING);
  }
  if (algorithm !== "AWS4-HMAC-SHA256")
    return queryMalformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');

  const scope = parseCredential(credential);
  if ("reason" in scope) {
    if (scope.reason === "terminator") {
      return queryMalformed(
        `Error parsing the X-Amz-Credential parameter; incorrect terminal "${scope.found.slice(0, 64)}". This endpoint uses "aws4_request".`,
      );
    }
    return queryMalformed(`Error parsing the X-Amz-Credential parameter; ${CREDENTIAL_MALFORMED}`);
  }
  const requestTimeMs = parseAmzDate(amzDate);
  if (requestTimeMs === null) {
    return queryMalformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  const expiresSeconds = parseExpires(expires, maxExpiresSeconds);
  if (typeof expiresSeconds === "string") return queryMalformed(expiresSeconds);
  const names = parseSignedHeaders(signedHeaders);
  if (names === null) return queryMalformed("X-Amz-SignedHeaders is empty or malformed.");
  return {
    accessKeyId: scope.accessKeyId,
    scope: scope.scope,
    amzDate,
    requestTimeMs,
    expiresSeconds,
    signedHeaders: names,
    signature,
    securityToken: securityToken ?? null,
  };
}

/** `X-Amz-Expires` as a number of seconds, or S3's complaint about it (docs/s3-sigv4.md "Presigned URLs"). */
function parseExpires(text: string, maxSeconds: number): number | string {
  const negative = text.charCodeAt(0) === 0x2d;
  const first = negative ? 1 : 0;
  if (text.length === first || text.length > 16) return "X-Amz-Expires should be a number";
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return "X-Amz-Expires should be a number";
  }
  if (negative) return "X-Amz-Expires must be non-negative";
  const seconds = Number(text);
  if (seconds < 1) return "X-Amz-Expires must be at least 1 second";
  if (seconds > maxSeconds) {
    return `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${maxSeconds} seconds`;
  }
  return seconds;
}
