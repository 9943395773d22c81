/**
 * S3's UriEncode for the places this package builds paths and headers (docs/s3-sigv4.md "Canonical URI"):
 * every UTF-8 byte except the unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX` with uppercase hex; space is
 * `%20`, never `+`; `!'()*` are encoded too. One implementation for the whole project: @osp/sigv4's, which
 * the canonical request is built with, so what osp sends upstream is exactly what it signs.
 */
import { uriEncode as sigv4UriEncode } from "@osp/sigv4";

/**
 * UriEncode of a query name or value, a bucket name or a version id: `/` is encoded too (`%2F`).
 * A lone surrogate (not well-formed UTF-16) is encoded as U+FFFD. Pure; never throws.
 */
export function uriEncode(value: string): string {
  return sigv4UriEncode(value, false);
}

/**
 * UriEncode of an object key for an upstream path: like `uriEncode`, but `/` stays `/` because it is part of
 * the key (AWS: encode `/` everywhere "except in the object key name"). Decoding the result once
 * gives back `key` exactly, so `//`, `.` and `..` segments survive. Pure; never throws.
 */
export function encodeKeyPath(key: string): string {
  return sigv4UriEncode(key, true);
}
