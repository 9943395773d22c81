import { S3Error } from "@osp/errors";
import { canonicalizeEncoded } from "./uri-encode.js";

/**
 * The S3 canonical URI of a request path as received (docs/s3-sigv4.md "Canonical URI"): each `/`-separated
 * segment is percent-decoded to bytes and UriEncoded again, then the segments are joined with `/`. S3 never
 * normalises paths, so `//`, `.` and `..` stay as they are, and S3 encodes once (no double encoding). `%2F`
 * inside a segment becomes `/` (the key holds a slash). A raw `+` is a space (`%20`) when `plusIsSpace`, as
 * S3 reads it, else a literal plus (`%2B`), as MinIO reads it.
 *
 * Non-ASCII characters are taken as their UTF-8 bytes, so `rawPath` must be the UTF-8 reading of the wire
 * bytes. An empty path is `/`; a path without a leading `/` gets one (the doc's `PUT test$file.text`).
 * A malformed escape (`%G1`, a lone `%`) is S3's 400 InvalidURI.
 */
export function canonicalUri(rawPath: string, options: { plusIsSpace: boolean }): string | S3Error {
  const canonical = canonicalizeEncoded(rawPath, 0, rawPath.length, true, options.plusIsSpace);
  if (canonical === null) return new S3Error("InvalidURI");
  if (canonical.charCodeAt(0) !== 0x2f) return `/${canonical}`;
  return canonical;
}
