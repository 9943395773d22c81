import { formatAmzDate } from "./amz-date.js";
import { canonicalHeaders } from "./canonical-headers.js";
import { canonicalQuery } from "./canonical-query.js";
import { formatCanonicalRequest } from "./canonical-request.js";
import { canonicalUri } from "./canonical-uri.js";
import { deriveSigningKey } from "./derive-signing-key.js";
import { MAX_PRESIGN_EXPIRES_SECONDS } from "./parse-presigned-query.js";
import { hmacSha256Hex } from "./sha256.js";
import { buildStringToSign, formatCredentialScope, SIGV4_ALGORITHM } from "./string-to-sign.js";
import type { CredentialScope } from "./types.js";
import { uriEncode } from "./uri-encode.js";

export interface PresignUrlInput {
  readonly method: string;
  /** The path as it will be requested, already UriEncoded (`/bucket/a%20b`). */
  readonly rawPath: string;
  /** Extra query parameters, raw (`response-content-type=text%2Fplain`), without `?`. */
  readonly rawQuery?: string;
  /** The `Host` the URL will be requested at (with its port when not the default). */
  readonly host: string;
  /** Other headers the request will carry and that are signed with it (any case). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Default `s3`. */
  readonly service?: string;
  /** 1..604800 (seven days), else RangeError. */
  readonly expiresSeconds: number;
  /** Signing time, default `Date.now()`. */
  readonly nowMs?: number;
  /**
   * STS session token: added as `X-Amz-Security-Token` before signing, so it is signed (docs/s3-sigv4.md
   * "Presigned URLs").
   */
  readonly securityToken?: string;
}

/**
 * Builds a presigned URL's path and query (`/bucket/key?...&X-Amz-Signature=...`; prefix the scheme and host
 * yourself), the way S3's presigner does (docs/s3-sigv4.md "Presigned URLs"): adds `X-Amz-Algorithm`,
 * `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-Security-Token` (when given) and
 * `X-Amz-SignedHeaders` (`host` and the given headers) to `rawQuery`, signs with the payload hash
 * `UNSIGNED-PAYLOAD`, and appends `X-Amz-Signature`.
 */
export function presignUrl(input: PresignUrlInput): string {
  const { expiresSeconds } = input;
  if (
    !Number.isInteger(expiresSeconds) ||
    expiresSeconds < 1 ||
    expiresSeconds > MAX_PRESIGN_EXPIRES_SECONDS
  ) {
    throw new RangeError(`presignUrl: expiresSeconds must be 1..${MAX_PRESIGN_EXPIRES_SECONDS}`);
  }
  const amzDate = formatAmzDate(input.nowMs ?? Date.now());
  const scope: CredentialScope = {
    date: amzDate.slice(0, 8),
    region: input.region,
    service: input.service ?? "s3",
  };
  const headers: Array<readonly [string, string]> = [["host", input.host]];
  for (const [name, value] of input.headers ?? []) {
    const lower = name.toLowerCase();
    if (lower !== "host") headers.push([lower, value]);
  }
  const signedNames = [...new Set(headers.map(([name]) => name))].sort();
  const signedHeaders = signedNames.join(";");

  let query = input.rawQuery !== undefined && input.rawQuery.length > 0 ? `${input.rawQuery}&` : "";
  query +=
    `X-Amz-Algorithm=${SIGV4_ALGORITHM}` +
    `&X-Amz-Credential=${uriEncode(`${input.accessKeyId}/${formatCredentialScope(scope)}`, false)}` +
    `&X-Amz-Date=${amzDate}&X-Amz-Expires=${expiresSeconds}`;
  if (input.securityToken !== undefined)
    query += `&X-Amz-Security-Token=${uriEncode(input.securityToken, false)}`;
  query += `&X-Amz-SignedHeaders=${uriEncode(signedHeaders, false)}`;

  const uri = canonicalUri(input.rawPath, { plusIsSpace: false });
  if (typeof uri !== "string")
    throw new TypeError(`presignUrl: malformed path ${JSON.stringify(input.rawPath)}`);
  const canonical = canonicalQuery(query);
  if (typeof canonical !== "string") {
    throw new TypeError(`presignUrl: malformed query ${JSON.stringify(input.rawQuery)}`);
  }
  const canonicalRequest = formatCanonicalRequest(
    input.method,
    uri,
    canonical,
    canonicalHeaders(headers, signedNames),
    signedHeaders,
    "UNSIGNED-PAYLOAD",
  );
  const key = deriveSigningKey(input.secretAccessKey, scope.date, scope.region, scope.service);
  const signature = hmacSha256Hex(key, buildStringToSign(canonicalRequest, amzDate, scope));
  return `${input.rawPath}?${query}&X-Amz-Signature=${signature}`;
}
