import { createHmac } from "node:crypto";
import { percentDecode } from "./uri-encode.js";

/**
 * SigV2's StringToSign (AWS "Signing and authenticating REST requests", RESTAuthentication; docs/s3-sigv4.md
 * "SigV2"):
 *
 *     Verb \n Content-MD5 \n Content-Type \n Date (query auth: Expires) \n CanonicalizedAmzHeaders CanonicalizedResource
 *
 * Pure functions of the received request; `authenticate-v2.ts` decides which date goes in.
 */

/**
 * The query parameters that are part of the CanonicalizedResource; all others are not signed. The AWS
 * document lists acl, lifecycle, location, logging, notification, partNumber, policy, requestPayment,
 * torrent, uploadId, uploads, versionId, versioning, versions, website, the `response-*` overrides and
 * `delete`. Clients also sign cors, restore and tagging (s3cmd 2.3's `sign_request_v2`, botocore's
 * `HmacV1Auth.QSAOfInterest`) and botocore signs the newer sub-resources below; a name missing here that a
 * client signs, or the reverse, only makes its signature fail.
 */
export const V2_SUBRESOURCES: ReadonlySet<string> = new Set([
  // RESTAuthentication, "Constructing the CanonicalizedResource element"
  "acl",
  "delete",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "partNumber",
  "policy",
  "requestPayment",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  // s3cmd and botocore
  "cors",
  "restore",
  "tagging",
  // botocore only
  "accelerate",
  "analytics",
  "inventory",
  "metrics",
  "object-lock",
  "replication",
  "select",
  "select-type",
]);

/** One `x-amz-*` name with its values in received order (headers first, then query parameters). */
type AmzHeader = [name: string, values: string[]];

function trimBlanks(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return value.slice(start, end);
}

/**
 * CanonicalizedAmzHeaders: every `x-amz-*` header, name lower-cased, sorted by name, values trimmed and
 * repeated ones joined with `,` in received order, each as `name:value\n`. `queryAmz` are the `x-amz-*`
 * query parameters (decoded, names lower-cased): a V2 presigner (botocore's `HmacV1QueryAuth`) moves the
 * headers it signed into the query, and the gateway hands such parameters upstream as headers, so they are
 * signed here like headers, after the headers of the same name.
 */
export function canonicalizedAmzHeaders(
  headers: ReadonlyArray<readonly [string, string]>,
  queryAmz: ReadonlyArray<readonly [string, string]>,
): string {
  const found: AmzHeader[] = [];
  const add = (name: string, value: string) => {
    const entry = found.find((e) => e[0] === name);
    if (entry === undefined) found.push([name, [trimBlanks(value)]]);
    else entry[1].push(trimBlanks(value));
  };
  for (const [name, value] of headers) if (name.startsWith("x-amz-")) add(name, value);
  for (const [name, value] of queryAmz) add(name, value);
  if (found.length === 0) return "";
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let out = "";
  for (const [name, values] of found) out += `${name}:${values.join(",")}\n`;
  return out;
}

/** One raw query component: the name as received, the value (`null` for `?acl`) as received. */
export interface RawQueryParam {
  readonly name: string;
  readonly value: string | null;
}

/** Splits a raw query (no leading `?`) at `&` and each component at its first `=`; empty ones are skipped. */
export function splitRawQuery(rawQuery: string): RawQueryParam[] {
  const params: RawQueryParam[] = [];
  if (rawQuery.length === 0) return params;
  for (const part of rawQuery.split("&")) {
    if (part.length === 0) continue;
    const eq = part.indexOf("=");
    params.push(
      eq < 0 ? { name: part, value: null } : { name: part.slice(0, eq), value: part.slice(eq + 1) },
    );
  }
  return params;
}

/**
 * A query value as the gateway reads it: a raw `+` is a space, then percent-decoded. `null` for a
 * malformed escape.
 */
export function decodeQueryValue(raw: string): string | null {
  return percentDecode(raw.includes("+") ? raw.replaceAll("+", " ") : raw);
}

/**
 * CanonicalizedResource: `/bucket` when the bucket came from the Host (virtual-hosted style), then the
 * request path literally as received (no decoding: "signed literally as they appear in the HTTP request,
 * including URL-Encoding meta characters"), then the sub-resources present, sorted by name, as `?name` or
 * `?name=value` joined with `&`, values decoded ("When signing, you do not encode these values"). A
 * request without bucket or path signs `/`. `null` when a sub-resource's value has a malformed escape.
 */
export function canonicalizedResource(
  rawPath: string,
  query: readonly RawQueryParam[],
  hostBucket: string | null,
): string | null {
  let resource = hostBucket === null ? rawPath : `/${hostBucket}${rawPath}`;
  if (resource.length === 0) resource = "/";
  const signed: Array<readonly [string, string | null]> = [];
  for (const { name, value } of query) {
    if (!V2_SUBRESOURCES.has(name)) continue;
    if (value === null) {
      signed.push([name, null]);
      continue;
    }
    const decoded = decodeQueryValue(value);
    if (decoded === null) return null;
    signed.push([name, decoded]);
  }
  if (signed.length === 0) return resource;
  signed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let sep = "?";
  for (const [name, value] of signed) {
    resource += value === null ? `${sep}${name}` : `${sep}${name}=${value}`;
    sep = "&";
  }
  return resource;
}

/** The parts of a StringToSign; absent positional headers are `""`. */
export interface StringToSignV2Parts {
  readonly method: string;
  readonly contentMd5: string;
  readonly contentType: string;
  /** The `Date` header as sent, `""` when `x-amz-date` is present, or the `Expires` of query auth. */
  readonly date: string;
  readonly amzHeaders: string;
  readonly resource: string;
}

export function buildStringToSignV2(parts: StringToSignV2Parts): string {
  return `${parts.method}\n${parts.contentMd5}\n${parts.contentType}\n${parts.date}\n${parts.amzHeaders}${parts.resource}`;
}

/** `Base64(HMAC-SHA1(secret, UTF-8(stringToSign)))`: the SigV2 signature. */
export function signStringV2(secretAccessKey: string, stringToSign: string): string {
  return createHmac("sha1", secretAccessKey).update(stringToSign, "utf8").digest("base64");
}
