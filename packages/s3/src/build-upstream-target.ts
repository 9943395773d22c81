/**
 * The `Host` header and request path of an upstream request (docs/s3-sigv4.md "Upstream addressing"). The
 * path is built from the decoded key with `encodeKeyPath`, never with `new URL()` (which would drop `.`/`..`
 * segments and fold `//`).
 */
import { isVirtualHostableBucket } from "./is-valid-bucket-name.js";
import { encodeKeyPath, uriEncode } from "./uri-encode.js";

export interface UpstreamEndpoint {
  /** The endpoint's configured addressing style; `virtual` may still fall back to path-style (below). */
  readonly addressing: "path" | "virtual";
  /** `host[:port]` of the endpoint, as `URL#host` gives it (a default port already left out). */
  readonly host: string;
  /** Whether the endpoint is reached over TLS; decides whether dotted buckets can be virtual-hosted.
   * Absent means true, the safe assumption. */
  readonly tls?: boolean;
}

export interface UpstreamTarget {
  /** The `Host` header: the endpoint's `host[:port]`, prefixed by `bucket.` when virtual-hosted. */
  readonly host: string;
  /** Request path with the query: `/bucket/key?query` (path-style) or `/key?query` (virtual-hosted). */
  readonly path: string;
  /** The addressing actually used, after any fall-back. */
  readonly addressing: "path" | "virtual";
}

/** An endpoint given as an IP literal (`10.0.0.5:9000`, `[::1]:9000`) cannot have a bucket in front of it. */
const IP_HOST = /^(?:\[.*\]|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)(?::[0-9]+)?$/;

/**
 * Builds the upstream `Host` and path for `upstreamBucket` and `key` (decoded; `null` = a bucket request).
 * Path-style gives `/bucket` or `/bucket/<key>`; virtual-hosted gives `bucket.<host>` and `/` or `/<key>`.
 * The key is UriEncoded keeping `/`, so decoding the path once gives the key back byte for byte; the port of
 * `endpoint.host` is kept in `host`; `rawQuery` (without `?`) is appended unchanged.
 *
 * Virtual-hosted addressing falls back to path-style, which every S3 store serves, when the bucket cannot be
 * a DNS label in front of the host: a dotted bucket over TLS (the endpoint's wildcard certificate does not
 * match `a.b.host`, S3 User Guide "Virtual hosting of buckets"; botocore does the same), a name that is not
 * DNS-compatible (uppercase, `_`, over 63 characters), or an endpoint given as an IP address. Pure; never
 * throws.
 */
export function buildUpstreamTarget(
  endpoint: UpstreamEndpoint,
  upstreamBucket: string,
  key: string | null,
  rawQuery: string,
): UpstreamTarget {
  const query = rawQuery.length > 0 ? "?" + rawQuery : "";
  const keyPath = key === null ? "" : "/" + encodeKeyPath(key);
  if (
    endpoint.addressing === "virtual" &&
    isVirtualHostableBucket(upstreamBucket, endpoint.tls === false) &&
    !IP_HOST.test(endpoint.host)
  ) {
    return {
      host: upstreamBucket + "." + endpoint.host,
      path: (keyPath.length > 0 ? keyPath : "/") + query,
      addressing: "virtual",
    };
  }
  return { host: endpoint.host, path: "/" + uriEncode(upstreamBucket) + keyPath + query, addressing: "path" };
}
