import { S3Error } from "@osp/errors";
import { formatAmzDate, formatIsoSeconds, parseAmzDate, parseHttpDate } from "./amz-date.js";
import {
  headerMalformed,
  headersNotSigned,
  missingDate,
  onlyOneMechanism,
  queryMalformed,
} from "./auth-errors.js";
import { authenticateV2, isSigV2Authorization } from "./authenticate-v2.js";
import { normalizeHeaderValue } from "./canonical-headers.js";
import { formatCanonicalQuery, parseQueryParams, type QueryParam } from "./canonical-query.js";
import { canonicalUri } from "./canonical-uri.js";
import { parseAuthorizationHeader } from "./parse-authorization-header.js";
import { parsePayloadMode, UNSIGNED_PAYLOAD_MODE } from "./parse-payload-mode.js";
import { isPresignParam, isSigV2Param, parsePresignParams } from "./parse-presigned-query.js";
import type {
  AuthenticatedRequest,
  AuthOptions,
  CredentialScope,
  PayloadMode,
  RequestFacts,
} from "./types.js";

/**
 * The defaults of `AuthOptions` (docs/s3-sigv4.md "Dates, scope and clock skew", "Presigned URLs"); `nowMs`
 * defaults to `Date.now()` at each call.
 */
export const DEFAULT_AUTH_OPTIONS: Readonly<Omit<AuthOptions, "nowMs">> = Object.freeze({
  maxSkewMs: 900_000,
  plusInPathIsSpace: true,
  allowedRegions: null,
  service: "s3",
  maxPresignExpiresSeconds: 604_800,
  sigV2: false,
  virtualHostDomains: [],
});

const NO_PARAMS: readonly QueryParam[] = [];

/** Joins repeated values as canonicalization does, so a repeated date or hash header is simply invalid. */
function append(previous: string | undefined, value: string): string {
  const normalized = normalizeHeaderValue(value);
  return previous === undefined ? normalized : `${previous},${normalized}`;
}

/**
 * Authenticates a request up to (not including) the signature check (docs/s3-sigv4.md "Verification order"):
 * 1. picks the mechanism: `Authorization` header, presigned query (`X-Amz-Algorithm`/`-Credential`/
 *    `-Signature`), or none, in which case it returns `null` (anonymous; the caller decides whether policy
 *    allows that). Two at once (header and query, or SigV4 and SigV2 query) → 400 InvalidArgument; SigV4a
 *    → 400 InvalidRequest; SigV2 (`AWS AKID:sig`, `AWSAccessKeyId`/`Signature`) → 400 InvalidRequest unless
 *    `options.sigV2`, when `authenticate-v2.ts` takes it (a result with `signatureVersion` 2, verified by
 *    `verifySignatureV2` with the secret itself).
 * 2. parses the header or the query (AuthorizationHeaderMalformed / AuthorizationQueryParametersError).
 * 3. checks the request time (`x-amz-date`, else `Date`; presigned: `X-Amz-Date`) → 403 AccessDenied when
 *    missing or invalid; the scope's date, service and region (`allowedRegions`) → 400; the clock skew →
 *    403 RequestTimeTooSkewed (header auth) or the presign window → 403 AccessDenied "Request has expired" /
 *    "Request is not yet valid".
 * 4. header auth: `x-amz-content-sha256` present (400 InvalidRequest) and valid (400 InvalidArgument).
 * 5. `host` and every `x-amz-*` header except `x-amz-content-sha256` signed → else 403 AccessDenied with
 *    `HeadersNotSigned`.
 * 6. computes the canonical URI (400 InvalidURI for a bad escape) and canonical query for `verifySignature`.
 *
 * The access key is NOT looked up here: the caller maps `accessKeyId` to its secret after this call (unknown
 * → 403 InvalidAccessKeyId), then calls `verifySignature` with the signing key. Pure: the clock is
 * `options.nowMs` (default `Date.now()`).
 */
export function authenticateRequest(
  facts: RequestFacts,
  options?: Partial<AuthOptions>,
): AuthenticatedRequest | S3Error | null {
  let authorization: string | undefined;
  let authorizationCount = 0;
  let amzDateHeader: string | undefined;
  let dateHeader: string | undefined;
  let contentSha256: string | undefined;
  let tokenHeader: string | undefined;
  const headers = facts.headers;
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    switch (header[0]) {
      case "authorization":
        authorization = header[1];
        authorizationCount++;
        break;
      case "x-amz-date":
        amzDateHeader = append(amzDateHeader, header[1]);
        break;
      case "date":
        dateHeader = append(dateHeader, header[1]);
        break;
      case "x-amz-content-sha256":
        contentSha256 = append(contentSha256, header[1]);
        break;
      case "x-amz-security-token":
        tokenHeader = append(tokenHeader, header[1]);
        break;
    }
  }

  let params = NO_PARAMS;
  if (facts.rawQuery.length > 0) {
    const parsed = parseQueryParams(facts.rawQuery);
    if (parsed === null) return new S3Error("InvalidURI");
    params = parsed;
  }
  let presign = false;
  let sigV2Query = false;
  for (let i = 0; i < params.length; i++) {
    const name = params[i]!.name;
    if (isPresignParam(name)) presign = true;
    else if (isSigV2Param(name)) sigV2Query = true;
  }

  if (authorization === undefined) {
    if (!presign && !sigV2Query) return null;
    if (presign && sigV2Query) return onlyOneMechanism(null);
  } else if (presign || sigV2Query) {
    return onlyOneMechanism(authorization);
  } else if (authorizationCount > 1) {
    return headerMalformed("the request has more than one Authorization header.");
  }

  const maxSkewMs = options?.maxSkewMs ?? DEFAULT_AUTH_OPTIONS.maxSkewMs;
  const nowMs = options?.nowMs ?? Date.now();
  if (
    options?.sigV2 === true &&
    (authorization === undefined ? sigV2Query : isSigV2Authorization(authorization))
  ) {
    return authenticateV2(facts, authorization, {
      nowMs,
      maxSkewMs,
      maxPresignExpiresSeconds:
        options.maxPresignExpiresSeconds ?? DEFAULT_AUTH_OPTIONS.maxPresignExpiresSeconds,
      virtualHostDomains: options.virtualHostDomains ?? DEFAULT_AUTH_OPTIONS.virtualHostDomains,
    });
  }
  let mechanism: "header" | "presigned";
  let accessKeyId: string;
  let scope: CredentialScope;
  let signedHeaders: readonly string[];
  let signature: string;
  let amzDate: string;
  let requestTimeMs: number;
  let expiresSeconds: number | null = null;
  let securityToken: string | null;
  let payload: PayloadMode;
  let payloadHash: string;

  if (authorization !== undefined) {
    const parsed = parseAuthorizationHeader(authorization);
    if (parsed instanceof S3Error) return parsed;
    mechanism = "header";
    ({ accessKeyId, scope, signedHeaders, signature } = parsed);
    // x-amz-date wins over Date (AWS: "x-amz-date takes precedence"); with only Date, its instant is signed
    // in x-amz-date form.
    let timeMs: number | null = null;
    let sentTime: string;
    if (amzDateHeader !== undefined) {
      sentTime = amzDateHeader;
      timeMs = parseAmzDate(amzDateHeader);
      amzDate = amzDateHeader;
    } else {
      sentTime = dateHeader ?? "";
      timeMs = dateHeader === undefined ? null : parseHttpDate(dateHeader);
      amzDate = timeMs === null ? "" : formatAmzDate(timeMs);
    }
    if (timeMs === null) return missingDate();
    requestTimeMs = timeMs;
    const scopeError = checkScope("header", scope, amzDate, options);
    if (scopeError !== null) return scopeError;
    if (Math.abs(requestTimeMs - nowMs) > maxSkewMs) {
      return new S3Error("RequestTimeTooSkewed", undefined, {
        fields: [
          ["RequestTime", sentTime],
          ["ServerTime", formatIsoSeconds(nowMs)],
          ["MaxAllowedSkewMilliseconds", String(maxSkewMs)],
        ],
      });
    }
    if (contentSha256 === undefined) {
      return new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    }
    const mode = parsePayloadMode(contentSha256);
    if (mode === null) return invalidContentSha256(contentSha256);
    payload = mode;
    payloadHash = contentSha256;
    securityToken = tokenHeader ?? null;
  } else {
    const parsed = parsePresignParams(
      params,
      options?.maxPresignExpiresSeconds ?? DEFAULT_AUTH_OPTIONS.maxPresignExpiresSeconds,
    );
    if (parsed instanceof S3Error) return parsed;
    mechanism = "presigned";
    ({ accessKeyId, scope, signedHeaders, signature, amzDate, requestTimeMs, securityToken } = parsed);
    expiresSeconds = parsed.expiresSeconds;
    const scopeError = checkScope("presigned", scope, amzDate, options);
    if (scopeError !== null) return scopeError;
    if (requestTimeMs - nowMs > maxSkewMs) return new S3Error("AccessDenied", "Request is not yet valid");
    const expiresMs = requestTimeMs + expiresSeconds * 1000;
    if (nowMs > expiresMs) {
      return new S3Error("AccessDenied", "Request has expired", {
        fields: [
          ["X-Amz-Expires", String(expiresSeconds)],
          ["Expires", formatIsoSeconds(expiresMs)],
          ["ServerTime", formatIsoSeconds(nowMs)],
        ],
      });
    }
    // The presigned canonical request always ends in UNSIGNED-PAYLOAD (docs/s3-sigv4.md "Presigned URLs"),
    // but a header that announces aws-chunked framing or a body hash still tells the gateway how to read the
    // body.
    let mode: PayloadMode | null = UNSIGNED_PAYLOAD_MODE;
    if (contentSha256 !== undefined) mode = parsePayloadMode(contentSha256);
    if (mode === null) return invalidContentSha256(contentSha256 ?? "");
    payload = mode;
    payloadHash = "UNSIGNED-PAYLOAD";
  }

  const unsigned = findUnsignedHeaders(facts.headers, signedHeaders);
  if (unsigned !== null) return headersNotSigned(unsigned);

  const uri = canonicalUri(facts.rawPath, {
    plusIsSpace: options?.plusInPathIsSpace ?? DEFAULT_AUTH_OPTIONS.plusInPathIsSpace,
  });
  if (typeof uri !== "string") return uri;

  return {
    mechanism,
    signatureVersion: 4,
    accessKeyId,
    scope,
    amzDate,
    requestTimeMs,
    signedHeaders,
    signature,
    payload,
    presignExpiresSeconds: expiresSeconds,
    securityToken,
    facts,
    canonicalUri: uri,
    canonicalQuery: formatCanonicalQuery(params, mechanism === "presigned" ? "X-Amz-Signature" : undefined),
    payloadHash,
    stringToSignV2: null,
  };
}

function invalidContentSha256(value: string): S3Error {
  return new S3Error(
    "InvalidArgument",
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
    {
      fields: [
        ["ArgumentName", "x-amz-content-sha256"],
        ["ArgumentValue", value.slice(0, 256)],
      ],
    },
  );
}

/**
 * A scope that does not fit this endpoint; a wrong region names the expected one (docs/s3-sigv4.md "Dates,
 * scope and clock skew").
 */
function scopeMalformed(mechanism: "header" | "presigned", detail: string, region?: string): S3Error {
  return new S3Error(
    mechanism === "header" ? "AuthorizationHeaderMalformed" : "AuthorizationQueryParametersError",
    mechanism === "header"
      ? `The authorization header is malformed; ${detail}`
      : `Error parsing the X-Amz-Credential parameter; ${detail}`,
    region === undefined ? {} : { fields: [["Region", region]], headers: [["x-amz-bucket-region", region]] },
  );
}

/**
 * The scope must match the request: its date is the date of the request time, its service the configured
 * one, its region an allowed one (docs/s3-sigv4.md "Dates, scope and clock skew"). Header auth answers
 * AuthorizationHeaderMalformed, presigned URLs AuthorizationQueryParametersError.
 */
function checkScope(
  mechanism: "header" | "presigned",
  scope: CredentialScope,
  amzDate: string,
  options: Partial<AuthOptions> | undefined,
): S3Error | null {
  if (!amzDate.startsWith(scope.date)) {
    return mechanism === "header"
      ? headerMalformed("Invalid credential date. Date is not the same as X-Amz-Date.")
      : queryMalformed(
          `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
        );
  }
  const service = options?.service ?? DEFAULT_AUTH_OPTIONS.service;
  if (scope.service !== service) {
    return scopeMalformed(
      mechanism,
      `incorrect service "${scope.service}". This endpoint belongs to "${service}".`,
    );
  }
  const allowed = options?.allowedRegions ?? DEFAULT_AUTH_OPTIONS.allowedRegions;
  if (allowed !== null && !allowed.has(scope.region)) {
    const expected: string = allowed.values().next().value ?? "";
    return scopeMalformed(
      mechanism,
      `the region '${scope.region}' is wrong; expecting '${expected}'`,
      expected,
    );
  }
  return null;
}

/** Above this many name comparisons the signed names go into a Set first (hostile header lists). */
const MAX_LINEAR_COMPARISONS = 512;

/**
 * The headers that must be signed but are not: `host`, and every `x-amz-*` header present except
 * `x-amz-content-sha256` (docs/s3-sigv4.md "Canonical headers"). `null` when all are signed. Each name is
 * listed once.
 */
function findUnsignedHeaders(headers: RequestFacts["headers"], signed: readonly string[]): string[] | null {
  const set = headers.length * signed.length > MAX_LINEAR_COMPARISONS ? new Set(signed) : null;
  const isSigned = (name: string) => (set === null ? signed.includes(name) : set.has(name));
  let missing: string[] | null = isSigned("host") ? null : ["host"];
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (!name.startsWith("x-amz-") || name === "x-amz-content-sha256" || isSigned(name)) continue;
    if (missing === null) missing = [name];
    else if (!missing.includes(name) && missing.length < 64) missing.push(name);
  }
  return missing;
}
