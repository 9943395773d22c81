/**
 * The query string osp sends upstream: the client's parameters minus query authentication
 * (`X-Amz-*` presign parameters, SigV2 `AWSAccessKeyId`/`Signature`/`Expires`), each re-encoded
 * canonically in received order. A valueless parameter (`?uploads`) stays valueless.
 */
import { uriEncode } from "@osp/sigv4";

const AUTH_PARAMS = new Set([
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-signedheaders",
  "x-amz-signature",
  "x-amz-security-token",
]);

/** `query` is the decoded parameter list from `parseQuery`. */
export function upstreamQuery(query: ReadonlyArray<readonly [string, string | null]>): string {
  let out = "";
  for (const [name, value] of query) {
    if (AUTH_PARAMS.has(name.toLowerCase())) continue;
    if (out !== "") out += "&";
    out += uriEncode(name, false);
    if (value !== null) out += `=${uriEncode(value, false)}`;
  }
  return out;
}

/** The first value of a decoded query parameter; `undefined` when absent, `null` when valueless. */
export function queryValue(
  query: ReadonlyArray<readonly [string, string | null]>,
  name: string,
): string | null | undefined {
  for (const [k, v] of query) if (k === name) return v;
  return undefined;
}
