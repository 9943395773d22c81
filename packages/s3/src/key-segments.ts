/**
 * Dot and empty segments in object keys. S3 keeps `a/../b` and `/b` as keys of their own, but stores that
 * map keys to file paths (s3rver, some gateways and NAS front ends) resolve `a/../b` to `b` and join `/b` or
 * `a//b` as `b` and `a/b`; a gateway that authorized `a/…` (or anything but `b`) would then have let the
 * store act on `b`. Unless an endpoint declares that it keeps keys literally, keys holding a `.` or `..`
 * segment, or an empty one other than the last (`folder/` stays a key), are refused. Separators are `/`
 * and, for stores on Windows file systems, `\`. See docs/security.md ("Keys").
 */
import { S3Error } from "@osp/errors";

/** How an endpoint treats keys: `safe` refuses dot segments, `literal` (AWS S3, Ceph RGW, IBM COS) keeps them. */
export type KeyMode = "safe" | "literal";

/**
 * True when `key` has a segment that is exactly `.` or `..`, or an empty segment before its last one (a
 * leading separator, or two in a row). With `trailingDot: false` a last segment of `.` is accepted (a
 * listing prefix `.` names keys that start with a dot, and resolves to nothing).
 * A loop over the characters: linear, no allocation.
 */
export function hasDotSegment(key: string, trailingDot = true): boolean {
  let start = 0;
  const n = key.length;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 0x2f : key.charCodeAt(i);
    if (c !== 0x2f /* / */ && c !== 0x5c /* \ */) continue;
    const len = i - start;
    if (len === 0 && i < n) return true; // "/a", "a//b": joined away by a file store
    if (len === 2 && key.charCodeAt(start) === 0x2e && key.charCodeAt(start + 1) === 0x2e) return true;
    if (len === 1 && key.charCodeAt(start) === 0x2e && (trailingDot || i < n)) return true;
    start = i + 1;
  }
  return false;
}

/** InvalidArgument for a key (or a key-like argument named `argument`) with a dot segment, or null. */
export function checkKeySegments(key: string, mode: KeyMode, argument = "key"): S3Error | null {
  if (mode === "literal" || !hasDotSegment(key)) return null;
  return dotSegmentError(argument);
}

export function dotSegmentError(argument: string): S3Error {
  return new S3Error(
    "InvalidArgument",
    "Object keys with '.', '..' or empty path segments are not accepted by this gateway.",
    { fields: [["ArgumentName", argument]] },
  );
}
