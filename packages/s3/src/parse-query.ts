import { S3Error } from "@osp/errors";
import { decodePercent } from "./decode-percent.js";

/** A decoded query: `[name, value]` in received order; `value` is null for a name without `=` (`?acl`). */
export type ParsedQuery = Array<[name: string, value: string | null]>;

/**
 * Decodes a raw query string (without its `?`): pairs split on `&` and at the first `=`, names and values
 * percent-decoded once with a raw `+` as space (form decoding, what S3 and MinIO do; SDKs never send a raw
 * `+`, docs/s3-sigv4.md "Plus signs"). Order and duplicates are kept; empty pieces (`a&&b`) are skipped;
 * `acl` gives `["acl", null]` and `acl=` gives `["acl", ""]`. A malformed escape or a name or value that is
 * not UTF-8 → InvalidURI, returned. Pure; never throws.
 */
export function parseQuery(rawQuery: string): ParsedQuery | S3Error {
  const out: ParsedQuery = [];
  if (rawQuery.length === 0) return out;
  for (const piece of rawQuery.split("&")) {
    if (piece.length === 0) continue;
    const eq = piece.indexOf("=");
    const name = decodePercent(eq < 0 ? piece : piece.slice(0, eq), true);
    const value = eq < 0 ? null : decodePercent(piece.slice(eq + 1), true);
    if (name === null || (eq >= 0 && value === null)) return new S3Error("InvalidURI");
    out.push([name, value]);
  }
  return out;
}
