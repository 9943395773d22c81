/**
 * Finding the bucket and key of a request (docs/s3-sigv4.md "Addressing"): path-style `/bucket/key`, or
 * virtual-hosted `bucket.<domain>` + `/key`. The key is split on the first `/` after the bucket, by position,
 * never by searching for the key's text (which finds the wrong place when the key repeats the bucket), and it
 * is decoded once, byte for byte: `//`, `.`, `..` are parts of keys, never normalised.
 */
import { S3Error } from "@osp/errors";
import { decodePercent } from "./decode-percent.js";
import { isValidBucketName } from "./is-valid-bucket-name.js";

/**
 * Where a request points. `bucket: null` is the service (ListBuckets); `key: null` is the bucket itself
 * (`/bucket` and `/bucket/` alike). `key` is the decoded key; `rawKey` the same key exactly as the client
 * sent it (still percent-encoded), or `null` when `key` is.
 */
export interface S3Target {
  readonly style: "path" | "virtual";
  readonly bucket: string | null;
  readonly key: string | null;
  readonly rawKey: string | null;
}

export interface ResolveTargetOptions {
  /** The gateway's own host names (`s3.example.com`); `<bucket>.<domain>` is virtual-hosted addressing. */
  readonly virtualHostDomains: readonly string[];
  /**
   * A raw `+` in the path is a space (AWS S3, RGW) rather than a literal `+` (MinIO). docs/s3-sigv4.md "Plus
   * signs".
   */
  readonly plusIsSpace: boolean;
  /** Longest key in UTF-8 bytes; S3's limit is 1024. */
  readonly maxKeyBytes?: number;
}

/** S3's object key limit: "The name for a key is a sequence of Unicode characters whose UTF-8 encoding is at
 * most 1,024 bytes long." (S3 User Guide, "Naming Amazon S3 objects"). */
export const DEFAULT_MAX_KEY_BYTES = 1024;

/**
 * Splits an origin-form request target at its first `?`: `/b/k?acl` → `{ rawPath: "/b/k", rawQuery: "acl" }`.
 * A `?` cannot be part of a path (clients send `%3F`), so the first one starts the query. Pure.
 */
export function splitRequestTarget(target: string): { rawPath: string; rawQuery: string } {
  const q = target.indexOf("?");
  return q < 0
    ? { rawPath: target, rawQuery: "" }
    : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

/**
 * Resolves the bucket and key of a request. `rawPath` is the origin-form path exactly as received, without
 * its `?query` (see `splitRequestTarget`); `host` is the Host header (or `:authority`), `null` when absent.
 *
 * - Host (port and one trailing dot dropped, case-insensitive) ending in `.` + a configured domain (whose
 *   own port, if configured, is ignored too) → virtual-hosted: bucket = the label(s) before, key = the
 *   whole path without its leading `/`. Any other host, a host equal to a domain, or none → path-style:
 *   bucket = first segment (percent-decoded), key = everything after the `/` that ends it.
 * - Errors (returned, never thrown): a target that is not origin-form (`http://h/p`, `*`, `h:443`, or
 *   containing `?`) → InvalidURI; a malformed escape, a lone surrogate or decoded bytes that are not UTF-8
 *   → InvalidURI; a bucket failing `isValidBucketName` → InvalidBucketName; a key over `maxKeyBytes`
 *   UTF-8 bytes → KeyTooLongError.
 *
 * Absolute-form targets are refused rather than handled: their authority would override the Host header
 * (RFC 9112 §3.2.2) that the client signed and that decides virtual-hosted addressing, and only clients
 * configured to use a forward proxy send them (docs/s3-sigv4.md "Addressing"). Raw non-ASCII characters (not
 * legal in a request target, but sent by some hand-rolled clients) are taken as their UTF-8 bytes.
 */
export function resolveTarget(
  rawPath: string,
  host: string | null,
  options: ResolveTargetOptions,
): S3Target | S3Error {
  if (rawPath.charCodeAt(0) !== 0x2f /* / */) {
    return new S3Error(
      "InvalidURI",
      "Couldn't parse the specified URI: only origin-form request targets are accepted.",
    );
  }
  if (rawPath.includes("?")) return new S3Error("InvalidURI");
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;

  const virtualBucket = host === null ? null : virtualHostBucket(host, options.virtualHostDomains);
  if (virtualBucket !== null) {
    if (!isValidBucketName(virtualBucket)) return invalidBucketName(virtualBucket);
    const rawKey = rawPath.length > 1 ? rawPath.slice(1) : null;
    return withKey("virtual", virtualBucket, rawKey, options.plusIsSpace, maxKeyBytes);
  }

  if (rawPath.length === 1) return { style: "path", bucket: null, key: null, rawKey: null };
  const slash = rawPath.indexOf("/", 1);
  const rawBucket = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const bucket = decodePercent(rawBucket, options.plusIsSpace);
  if (bucket === null) return new S3Error("InvalidURI");
  if (!isValidBucketName(bucket)) return invalidBucketName(bucket);
  // `/bucket` and `/bucket/` both address the bucket; `/bucket//` is the key `/`.
  const rawKey = slash < 0 || slash === rawPath.length - 1 ? null : rawPath.slice(slash + 1);
  return withKey("path", bucket, rawKey, options.plusIsSpace, maxKeyBytes);
}

function withKey(
  style: "path" | "virtual",
  bucket: string,
  rawKey: string | null,
  plusIsSpace: boolean,
  maxKeyBytes: number,
): S3Target | S3Error {
  if (rawKey === null) return { style, bucket, key: null, rawKey: null };
  const key = decodePercent(rawKey, plusIsSpace);
  if (key === null) return new S3Error("InvalidURI");
  if (key.length > maxKeyBytes / 3 && Buffer.byteLength(key, "utf8") > maxKeyBytes) {
    return new S3Error("KeyTooLongError");
  }
  return { style, bucket, key, rawKey };
}

function invalidBucketName(name: string): S3Error {
  // S3 names the offending bucket in a BucketName element.
  return new S3Error("InvalidBucketName", undefined, { fields: [["BucketName", name]] });
}

/**
 * The bucket named by a virtual-hosted Host, or null when the host is not `<something>.<domain>` for one of
 * `domains`. A host equal to any domain is path-style even when it also ends in another one
 * (`s3.example` with domains `example` and `s3.example`), and the longest matching domain wins, so the
 * order of the configured list never matters. An empty prefix (`.s3.example`) is returned as `""` so that
 * the caller refuses it.
 */
function virtualHostBucket(host: string, domains: readonly string[]): string | null {
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

/** Lowercased host name without port and without one trailing dot (`Bucket.S3.Example.:6190` → `bucket.s3.example`). */
function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h; // an IPv6 literal never has a bucket in front of it
  const colon = h.lastIndexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}
