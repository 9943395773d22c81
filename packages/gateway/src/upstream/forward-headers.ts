/**
 * Which headers cross the gateway. Upstream, those the operation's policy allows (header-policy.ts), never
 * hop-by-hop headers (RFC 9110 §7.6.1), the client's own authentication or the framing osp replaces;
 * downstream, everything the store answered but hop-by-hop headers and the framing.
 */

import { allowsHeader, type HeaderPolicy, headerPolicy } from "./header-policy.js";

/** Hop-by-hop: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Request headers osp replaces or must not pass: host (rebuilt for the endpoint), the client's signature and
 * session token, the date and payload hash (re-signed), framing (content-length is recomputed), expect (osp
 * answered it), aws-chunked framing headers (the body is decoded), the forwarding headers (`Forwarded`,
 * `X-Forwarded-*`, `X-Real-IP`: osp trusts them only from `trustedProxies`, and a store that honours them
 * must not be told a client's own claims) and `ibm-service-instance-id` (osp sets it itself from the
 * bucket's `instance`: on CreateBucket in pipeline/exchange.ts, on its own ListBuckets requests in
 * routing/bucket-listings.ts).
 */
const REQUEST_DROPPED = new Set([
  ...HOP_BY_HOP,
  "host",
  "authorization",
  "x-amz-security-token",
  "x-amz-date",
  "x-amz-content-sha256",
  "content-length",
  "expect",
  "x-amz-decoded-content-length",
  "x-amz-trailer",
  "date",
  "forwarded",
  "x-real-ip",
  "ibm-service-instance-id",
]);

/**
 * Adds to `named` the header names a `Connection` value lists (RFC 9110 §7.6.1: hop-by-hop for this connection
 * only); stays null when it lists none beyond the usual `keep-alive`/`close`, as nearly every message does.
 */
function connectionOptions(value: string, named: Set<string> | null): Set<string> | null {
  for (const token of value.split(",")) {
    const option = token.trim().toLowerCase();
    if (option === "" || option === "keep-alive" || option === "close") continue;
    named ??= new Set();
    named.add(option);
  }
  return named;
}

/** `out` without the headers `named` lists (the rare message whose Connection names some). */
function withoutNamed(out: Array<[string, string]>, named: Set<string> | null): Array<[string, string]> {
  return named === null ? out : out.filter(([name]) => !named.has(name));
}

/** Flexible-checksum headers, dropped for endpoints configured with `checksums: drop`. */
function isChecksumHeader(name: string): boolean {
  return name.startsWith("x-amz-checksum-") || name === "x-amz-sdk-checksum-algorithm";
}

/**
 * The client's headers that go upstream, in received order: those the operation's `policy` allows, less
 * those its `Connection` header names, then the `hoisted` ones (`x-amz-*` headers a presigner moved into the
 * query) the policy allows and the request does not already carry. `aws-chunked` is removed from
 * Content-Encoding (S3 stores the object without it); the header goes away if it was the only value.
 */
export function forwardRequestHeaders(
  headers: ReadonlyArray<readonly [string, string]>,
  options: {
    readonly dropChecksums: boolean;
    readonly dropCopySource: boolean;
    readonly policy?: HeaderPolicy;
    readonly hoisted?: ReadonlyArray<readonly [string, string]>;
  },
): Array<[string, string]> {
  const policy = options.policy ?? headerPolicy("Unknown");
  const out: Array<[string, string]> = [];
  let named: Set<string> | null = null;
  for (const [name, value] of headers) {
    if (name === "connection") named = connectionOptions(value, named);
    if (REQUEST_DROPPED.has(name) || name.startsWith("proxy-") || name.startsWith("x-forwarded-")) continue;
    if (!allowsHeader(policy, name)) continue;
    if (options.dropChecksums && isChecksumHeader(name)) continue;
    // The algorithm without its value (a trailer checksum, verified and dropped with the re-framing) makes
    // S3 refuse the request ("x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-*").
    if (name === "x-amz-sdk-checksum-algorithm" && !headers.some(([n]) => n.startsWith("x-amz-checksum-"))) {
      continue;
    }
    if (options.dropCopySource && name === "x-amz-copy-source") continue;
    if (name === "content-encoding") {
      const kept = withoutAwsChunked(value);
      if (kept !== "") out.push([name, kept]);
      continue;
    }
    out.push([name, value]);
  }
  if (options.hoisted !== undefined) {
    for (const [name, value] of options.hoisted) {
      if (REQUEST_DROPPED.has(name) || !allowsHeader(policy, name)) continue;
      if (options.dropChecksums && isChecksumHeader(name)) continue;
      if (name === "x-amz-copy-source" || out.some(([n]) => n === name)) continue;
      out.push([name, value]);
    }
  }
  return withoutNamed(out, named);
}

/** Content-Encoding without `aws-chunked`; the value unchanged, byte for byte, when it has none. */
function withoutAwsChunked(value: string): string {
  if (!/aws-chunked/i.test(value)) return value;
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "" && t.toLowerCase() !== "aws-chunked")
    .join(",");
}

/**
 * Upstream response headers the client sees: everything but hop-by-hop headers (those the response's
 * `Connection` names included), the body length (the HTTP writer sets it from the real body) and `date` (the
 * writer adds its own).
 */
export function forwardResponseHeaders(
  headers: ReadonlyArray<readonly [string, string]>,
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let named: Set<string> | null = null;
  for (const [name, value] of headers) {
    if (name === "connection") named = connectionOptions(value, named);
    if (HOP_BY_HOP.has(name) || name === "content-length" || name === "date") continue;
    out.push([name, value]);
  }
  return withoutNamed(out, named);
}

/** First value of a header, `null` when absent. Names are lower-case. */
export function headerValue(headers: ReadonlyArray<readonly [string, string]>, name: string): string | null {
  for (const [k, v] of headers) if (k === name) return v;
  return null;
}
