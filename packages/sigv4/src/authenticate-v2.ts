import { S3Error } from "@osp/errors";
import { formatAmzDate, formatIsoSeconds, parseV2Date } from "./amz-date.js";
import { missingDate, queryMalformed } from "./auth-errors.js";
import { MAX_AUTHORIZATION_CHARS } from "./parse-authorization-header.js";
import { parsePayloadMode, UNSIGNED_PAYLOAD_MODE } from "./parse-payload-mode.js";
import {
  buildStringToSignV2,
  canonicalizedAmzHeaders,
  canonicalizedResource,
  decodeQueryValue,
  type RawQueryParam,
  splitRawQuery,
  V2_SUBRESOURCES,
} from "./string-to-sign-v2.js";
import type { AuthenticatedRequest, AuthOptions, PayloadMode, RequestFacts } from "./types.js";
import { percentDecode } from "./uri-encode.js";

/**
 * SigV2 authentication (docs/s3-sigv4.md "SigV2"), reached only with `AuthOptions.sigV2`: the header form
 * `Authorization: AWS AKID:Signature` and the query form `AWSAccessKeyId`, `Expires`, `Signature`. Same
 * contract as `authenticateRequest`: it parses, checks the time and builds the StringToSign; the caller looks
 * the key up, then `verifySignatureV2` compares.
 */

/** The options SigV2 reads, defaults filled in. */
export type V2Options = Pick<
  AuthOptions,
  "nowMs" | "maxSkewMs" | "maxPresignExpiresSeconds" | "virtualHostDomains"
>;

/** A SigV2 request has no credential scope; this one never matches a SigV4 key. */
const NO_SCOPE = Object.freeze({ date: "", region: "", service: "" });
const NO_SIGNED_HEADERS: readonly string[] = Object.freeze([]);

/** Does this `Authorization` value use SigV2's scheme (`AWS AKID:sig`)? */
export function isSigV2Authorization(value: string): boolean {
  let i = 0;
  while (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09) i++;
  const next = value.charCodeAt(i + 3);
  return value.startsWith("AWS", i) && (next === 0x20 || next === 0x09);
}

/** 400 InvalidArgument for a header that is `AWS …` but not `AWS AKID:Signature` (S3's wording). */
function headerInvalid(value: string): S3Error {
  return new S3Error(
    "InvalidArgument",
    "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
    {
      fields: [
        ["ArgumentName", "Authorization"],
        ["ArgumentValue", value.slice(0, 1024)],
      ],
    },
  );
}

/** `AWS AKID:Signature` → its two parts; anything else is 400 InvalidArgument. */
function parseAuthorizationV2(value: string): { accessKeyId: string; signature: string } | S3Error {
  const text = value.trim();
  if (text.length > MAX_AUTHORIZATION_CHARS) return headerInvalid(value);
  let start = 3;
  while (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09) start++;
  const colon = text.indexOf(":", start);
  if (colon <= start || colon === text.length - 1) return headerInvalid(value);
  const accessKeyId = text.slice(start, colon);
  const signature = text.slice(colon + 1);
  if (/[\s:]/.test(accessKeyId) || /\s/.test(signature)) return headerInvalid(value);
  return { accessKeyId, signature };
}

/** The headers SigV2 reads, repeated ones joined with `,` as a comma-joining proxy would. */
interface V2Headers {
  amzDate: string | undefined;
  date: string | undefined;
  contentMd5: string | undefined;
  contentType: string | undefined;
  contentSha256: string | undefined;
  securityToken: string | undefined;
  host: string | undefined;
}

function readHeaders(headers: RequestFacts["headers"]): V2Headers {
  const found: V2Headers = {
    amzDate: undefined,
    date: undefined,
    contentMd5: undefined,
    contentType: undefined,
    contentSha256: undefined,
    securityToken: undefined,
    host: undefined,
  };
  const join = (previous: string | undefined, value: string) => {
    const trimmed = value.trim();
    return previous === undefined ? trimmed : `${previous},${trimmed}`;
  };
  for (const [name, value] of headers) {
    switch (name) {
      case "x-amz-date":
        found.amzDate = join(found.amzDate, value);
        break;
      case "date":
        found.date = join(found.date, value);
        break;
      case "content-md5":
        found.contentMd5 = join(found.contentMd5, value);
        break;
      case "content-type":
        found.contentType = join(found.contentType, value);
        break;
      case "x-amz-content-sha256":
        found.contentSha256 = join(found.contentSha256, value);
        break;
      case "x-amz-security-token":
        found.securityToken = join(found.securityToken, value);
        break;
      case "host":
        // The first Host, as the gateway's `resolveTarget` reads it.
        found.host ??= value;
        break;
    }
  }
  return found;
}

/**
 * The bucket of a virtual-hosted Host (`bucket.<domain>` for one of `domains`), or `null`: the same rule as
 * @osp/s3's `resolveTarget` (lower-cased, port and one trailing dot dropped, a host equal to a domain is
 * path-style, the longest matching domain wins). Duplicated because @osp/s3 depends on this package.
 */
export function virtualHostBucket(host: string | undefined, domains: readonly string[]): string | null {
  if (host === undefined || domains.length === 0) return null;
  const name = hostName(host);
  let longest = -1;
  for (const domain of domains) {
    const d = hostName(domain);
    if (d.length === 0) continue;
    if (d === name) return null;
    if (d.length > longest && name.endsWith(d) && name[name.length - d.length - 1] === ".")
      longest = d.length;
  }
  return longest < 0 ? null : name.slice(0, name.length - longest - 1);
}

function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h;
  const colon = h.lastIndexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/**
 * How to read the body: SigV2 signs none of it (Content-MD5, when sent, is signed and checked against the
 * body). A declared `x-amz-content-sha256` (signed, as every `x-amz-*` header) is honoured: a hex digest is
 * verified, UNSIGNED-PAYLOAD and an unsigned aws-chunked body are read as such; signed aws-chunked framing
 * needs a SigV4 signing key, so it is refused.
 */
function payloadMode(contentSha256: string | undefined): PayloadMode | S3Error {
  if (contentSha256 === undefined) return UNSIGNED_PAYLOAD_MODE;
  const mode = parsePayloadMode(contentSha256);
  if (mode === null) {
    return new S3Error("InvalidArgument", "x-amz-content-sha256 is not a valid value.", {
      fields: [
        ["ArgumentName", "x-amz-content-sha256"],
        ["ArgumentValue", contentSha256.slice(0, 256)],
      ],
    });
  }
  if (mode.kind === "streaming-signed" || mode.kind === "streaming-signed-trailer") {
    return new S3Error("InvalidRequest", "Signed aws-chunked payloads require AWS Signature Version 4.");
  }
  return mode;
}

/** The `x-amz-*` query parameters, names decoded and lower-cased, values decoded (see `canonicalizedAmzHeaders`). */
function queryAmzParams(query: readonly RawQueryParam[]): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  for (const { name, value } of query) {
    if (name.length < 6 || (name.charCodeAt(0) | 0x20) !== 0x78 /* x */) continue;
    const decoded = decodeQueryValue(name);
    if (decoded === null) return null;
    const lower = decoded.toLowerCase();
    if (!lower.startsWith("x-amz-")) continue;
    const v = value === null ? "" : decodeQueryValue(value);
    if (v === null) return null;
    out.push([lower, v]);
  }
  return out;
}

/**
 * Query parameters a SigV2 request may carry although SigV2 does not sign them: those that only qualify a
 * listing (as at S3, a replayed V2 listing can change them, and the gateway authorizes whatever it lists),
 * the SDKs' `x-id`, and V2's own. Any other unsigned name could turn a signed request into another operation
 * (`?retention`, `?encryption`, IBM's `?protection`…), so it is refused (`unsignedParameter`).
 */
const V2_UNSIGNED_PARAMS: ReadonlySet<string> = new Set([
  "AWSAccessKeyId",
  "Expires",
  "Signature",
  "continuation-token",
  "delimiter",
  "encoding-type",
  "fetch-owner",
  "key-marker",
  "list-type",
  "marker",
  "max-keys",
  "max-parts",
  "max-uploads",
  "part-number-marker",
  "prefix",
  "start-after",
  "upload-id-marker",
  "version-id-marker",
  "x-id",
]);

/** 400 InvalidRequest for a query parameter a SigV2 signature would leave unprotected. */
function unsignedParameter(name: string): S3Error {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return new S3Error(
    "InvalidRequest",
    `The query parameter ${shown} is not covered by an AWS Signature Version 2 signature: sign this request with AWS4-HMAC-SHA256.`,
    { fields: [["ArgumentName", shown]] },
  );
}

const QUERY_MISSING =
  "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";

/**
 * Authenticates a SigV2 request up to the signature check. Header form: the time is `x-amz-date` when present
 * (the Date line of the StringToSign is then empty and `x-amz-date` is signed among the amz headers), else
 * `Date`; missing or not an HTTP date → 403 AccessDenied; beyond `maxSkewMs` → 403 RequestTimeTooSkewed.
 * Query form: `Expires` (epoch seconds) takes the Date line; past → 403 AccessDenied "Request has expired";
 * more than `maxPresignExpiresSeconds` ahead → 400 AuthorizationQueryParametersError. Either way the
 * result's `stringToSignV2` is what the client must have signed.
 */
export function authenticateV2(
  facts: RequestFacts,
  authorization: string | undefined,
  options: V2Options,
): AuthenticatedRequest | S3Error {
  const headers = readHeaders(facts.headers);
  const query = splitRawQuery(facts.rawQuery);
  let accessKeyId: string;
  let signature: string;
  let dateLine: string;
  let requestTimeMs: number;
  let presignExpiresSeconds: number | null = null;
  let securityToken = headers.securityToken ?? null;

  if (authorization !== undefined) {
    const parsed = parseAuthorizationV2(authorization);
    if (parsed instanceof S3Error) return parsed;
    ({ accessKeyId, signature } = parsed);
    const sent = headers.amzDate ?? headers.date;
    const timeMs = sent === undefined ? null : parseV2Date(sent);
    if (sent === undefined || timeMs === null) return missingDate();
    dateLine = headers.amzDate === undefined ? sent : "";
    requestTimeMs = timeMs;
    if (Math.abs(requestTimeMs - options.nowMs) > options.maxSkewMs) {
      return new S3Error("RequestTimeTooSkewed", undefined, {
        fields: [
          ["RequestTime", sent],
          ["ServerTime", formatIsoSeconds(options.nowMs)],
          ["MaxAllowedSkewMilliseconds", String(options.maxSkewMs)],
        ],
      });
    }
  } else {
    let key: string | undefined;
    let sig: string | undefined;
    let expires: string | undefined;
    for (const { name, value } of query) {
      if (name !== "AWSAccessKeyId" && name !== "Signature" && name !== "Expires") continue;
      if ((name === "AWSAccessKeyId" ? key : name === "Signature" ? sig : expires) !== undefined) {
        return queryMalformed(`${name} must appear only once.`);
      }
      // The signature is base64: a raw `+` in it is a `+` that was not escaped, never a space.
      const decoded =
        value === null ? "" : name === "Signature" ? percentDecode(value) : decodeQueryValue(value);
      if (decoded === null) return new S3Error("InvalidURI");
      if (name === "AWSAccessKeyId") key = decoded;
      else if (name === "Signature") sig = decoded;
      else expires = decoded;
    }
    if (key === undefined || sig === undefined || expires === undefined || key === "" || sig === "") {
      return new S3Error("AccessDenied", QUERY_MISSING);
    }
    accessKeyId = key;
    signature = sig;
    if (!/^[0-9]{1,12}$/.test(expires)) {
      return queryMalformed("Expires must be a number of seconds since the epoch.");
    }
    const expiresMs = Number(expires) * 1000;
    if (options.nowMs > expiresMs) {
      return new S3Error("AccessDenied", "Request has expired", {
        fields: [
          ["Expires", formatIsoSeconds(expiresMs)],
          ["ServerTime", formatIsoSeconds(options.nowMs)],
        ],
      });
    }
    const remainingSeconds = Math.floor((expiresMs - options.nowMs) / 1000);
    if (remainingSeconds > options.maxPresignExpiresSeconds) {
      return queryMalformed(
        `Expires must be at most ${options.maxPresignExpiresSeconds} seconds from now; this URL has ${remainingSeconds} left.`,
      );
    }
    dateLine = expires;
    // A V2 URL carries no signing time: it counts from its use, with the lifetime it has left, so that
    // `requestTimeMs + presignExpiresSeconds` is its expiry as for SigV4.
    requestTimeMs = options.nowMs;
    presignExpiresSeconds = remainingSeconds;
  }

  for (const { name } of query) {
    if (V2_SUBRESOURCES.has(name) || V2_UNSIGNED_PARAMS.has(name)) continue;
    const lower = name.toLowerCase();
    // `x-amz-*` parameters are signed among the amz headers; an escaped name (`x%2Damz-…`) is refused.
    if (!lower.startsWith("x-amz-")) return unsignedParameter(name);
  }
  const payload = payloadMode(headers.contentSha256);
  if (payload instanceof S3Error) return payload;
  const queryAmz = queryAmzParams(query);
  if (queryAmz === null) return new S3Error("InvalidURI");
  if (securityToken === null) {
    const token = queryAmz.find(([name]) => name === "x-amz-security-token");
    if (token !== undefined) securityToken = token[1];
  }
  const resource = canonicalizedResource(
    facts.rawPath,
    query,
    virtualHostBucket(headers.host, options.virtualHostDomains),
  );
  if (resource === null) return new S3Error("InvalidURI");
  const stringToSignV2 = buildStringToSignV2({
    method: facts.method,
    contentMd5: headers.contentMd5 ?? "",
    contentType: headers.contentType ?? "",
    date: dateLine,
    amzHeaders: canonicalizedAmzHeaders(facts.headers, queryAmz),
    resource,
  });
  return {
    mechanism: authorization === undefined ? "presigned" : "header",
    signatureVersion: 2,
    accessKeyId,
    scope: NO_SCOPE,
    amzDate: formatAmzDate(requestTimeMs),
    requestTimeMs,
    signedHeaders: NO_SIGNED_HEADERS,
    signature,
    payload,
    presignExpiresSeconds,
    securityToken,
    facts,
    canonicalUri: "",
    canonicalQuery: "",
    payloadHash: "UNSIGNED-PAYLOAD",
    stringToSignV2,
  };
}
