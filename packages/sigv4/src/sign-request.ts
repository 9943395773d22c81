import { formatAmzDate } from "./amz-date.js";
import { canonicalHeaders } from "./canonical-headers.js";
import { canonicalQuery } from "./canonical-query.js";
import { formatCanonicalRequest } from "./canonical-request.js";
import { canonicalUri } from "./canonical-uri.js";
import { deriveSigningKey } from "./derive-signing-key.js";
import { hmacSha256Hex } from "./sha256.js";
import type { SigningKeyCache } from "./signing-key-cache.js";
import { buildStringToSign, formatCredentialScope, SIGV4_ALGORITHM } from "./string-to-sign.js";
import type { CredentialScope } from "./types.js";

/**
 * Headers SDKs never sign, because proxies and clients add, drop or rewrite them in flight (smithy's
 * ALWAYS_UNSIGNABLE_HEADERS in @smithy/signature-v4), plus the `proxy-*` and `sec-*` prefixes.
 */
const UNSIGNABLE = new Set([
  "authorization",
  "cache-control",
  "connection",
  "expect",
  "from",
  "keep-alive",
  "max-forwards",
  "pragma",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id",
]);

/** The default choice of signed headers: everything but the unsignable ones. */
function isSignableHeader(name: string): boolean {
  return !UNSIGNABLE.has(name) && !name.startsWith("proxy-") && !name.startsWith("sec-");
}

/** The headers `signRequest` owns: values in the input are ignored and replaced by `headersToAdd`. */
const OWNED = new Set(["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]);

export interface SignRequestInput {
  readonly method: string;
  /** The path exactly as it will be sent, already UriEncoded (`/bucket/a%20b`); `+` is a literal plus. */
  readonly rawPath: string;
  /** The query exactly as it will be sent (no `?`), `""` for none. */
  readonly rawQuery: string;
  /** Headers that will be sent, `host` included (any case; duplicates are joined with `,`). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The `x-amz-content-sha256` value: hex SHA-256 of the body, `UNSIGNED-PAYLOAD`, or a streaming mode. */
  readonly payloadHash: string;
  readonly accessKeyId: string;
  /** The secret, or else `signingKey` (derived for the date of `nowMs`, region and service). */
  readonly secretAccessKey?: string;
  readonly signingKey?: Buffer;
  /** Where to take the derived key from when `secretAccessKey` is given. */
  readonly signingKeyCache?: SigningKeyCache;
  readonly region: string;
  /** Default `s3`. */
  readonly service?: string;
  /** Default `Date.now()`. */
  readonly nowMs?: number;
  /** STS session token, sent and signed as `x-amz-security-token`. */
  readonly securityToken?: string;
  /** Which other headers to sign (default `isSignableHeader`); `host` and `x-amz-*` are always signed. */
  readonly signedHeaderFilter?: (name: string) => boolean;
}

export interface SignedRequest {
  /** The `Authorization` value. */
  readonly authorization: string;
  /** The `x-amz-date` value. */
  readonly amzDate: string;
  readonly signature: string;
  /** `;`-joined signed header names. */
  readonly signedHeaders: string;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  /**
   * The headers to send on top of the input headers, lower-case names: `authorization`, `x-amz-content-sha256`,
   * `x-amz-date` and, with a session token, `x-amz-security-token`.
   */
  readonly headersToAdd: ReadonlyArray<readonly [string, string]>;
}

/**
 * Signs an outgoing request with SigV4 header auth (upstream re-signing, docs/s3-sigv4.md "Canonical
 * request"). Contract, kept simple: this function owns `authorization`, `x-amz-date`, `x-amz-content-sha256`
 * and `x-amz-security-token`. It signs `x-amz-date` = the time of `nowMs` and `x-amz-content-sha256` =
 * `payloadHash`, ignores those four headers in the input, and returns them in `headersToAdd`: the caller
 * sends its headers (minus those four) plus `headersToAdd`. Signed: `host` (required, else TypeError), every
 * `x-amz-*` header, and every other header `signedHeaderFilter` accepts (default: all but smithy's unsignable
 * list). The path and query are canonicalized as S3 will (decode, re-encode); a malformed escape is a
 * TypeError, since it is the caller's bug.
 */
export function signRequest(input: SignRequestInput): SignedRequest {
  const amzDate = formatAmzDate(input.nowMs ?? Date.now());
  const scope: CredentialScope = {
    date: amzDate.slice(0, 8),
    region: input.region,
    service: input.service ?? "s3",
  };
  const filter = input.signedHeaderFilter ?? isSignableHeader;
  const headers: Array<readonly [string, string]> = [];
  const names = new Set<string>(["x-amz-content-sha256", "x-amz-date"]);
  for (const [rawName, value] of input.headers) {
    const name = rawName.toLowerCase();
    if (OWNED.has(name)) continue;
    headers.push([name, value]);
    if (name === "host" || name.startsWith("x-amz-") || filter(name)) names.add(name);
  }
  if (!names.has("host")) throw new TypeError("signRequest: the headers must include host");
  const headersToAdd: Array<readonly [string, string]> = [
    ["x-amz-content-sha256", input.payloadHash],
    ["x-amz-date", amzDate],
  ];
  if (input.securityToken !== undefined) {
    headersToAdd.push(["x-amz-security-token", input.securityToken]);
    names.add("x-amz-security-token");
  }
  headers.push(...headersToAdd);
  const signedNames = [...names].sort();

  const uri = canonicalUri(input.rawPath, { plusIsSpace: false });
  if (typeof uri !== "string")
    throw new TypeError(`signRequest: malformed path ${JSON.stringify(input.rawPath)}`);
  const query = canonicalQuery(input.rawQuery);
  if (typeof query !== "string") {
    throw new TypeError(`signRequest: malformed query ${JSON.stringify(input.rawQuery)}`);
  }
  const signedHeaders = signedNames.join(";");
  const canonicalRequest = formatCanonicalRequest(
    input.method,
    uri,
    query,
    canonicalHeaders(headers, signedNames),
    signedHeaders,
    input.payloadHash,
  );
  const stringToSign = buildStringToSign(canonicalRequest, amzDate, scope);
  const signature = hmacSha256Hex(resolveSigningKey(input, scope), stringToSign);
  const authorization = formatAuthorizationHeader(input.accessKeyId, scope, signedHeaders, signature);
  headersToAdd.unshift(["authorization", authorization]);
  return { authorization, amzDate, signature, signedHeaders, canonicalRequest, stringToSign, headersToAdd };
}

/** `AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<a;b>, Signature=<hex>`, as SDKs write it. */
export function formatAuthorizationHeader(
  accessKeyId: string,
  scope: CredentialScope,
  signedHeaders: string,
  signature: string,
): string {
  return `${SIGV4_ALGORITHM} Credential=${accessKeyId}/${formatCredentialScope(scope)}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

function resolveSigningKey(
  input: {
    readonly secretAccessKey?: string;
    readonly signingKey?: Buffer;
    readonly signingKeyCache?: SigningKeyCache;
  },
  scope: CredentialScope,
): Buffer {
  if (input.signingKey !== undefined) return input.signingKey;
  if (input.secretAccessKey === undefined) {
    throw new TypeError("signRequest: give secretAccessKey or signingKey");
  }
  if (input.signingKeyCache !== undefined) return input.signingKeyCache.get(input.secretAccessKey, scope);
  return deriveSigningKey(input.secretAccessKey, scope.date, scope.region, scope.service);
}
