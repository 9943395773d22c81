import { S3Error } from "@osp/errors";
import { canonicalizeEncoded } from "./uri-encode.js";

/** One query parameter, name and value already in canonical (decoded, then UriEncoded) form. */
export interface QueryParam {
  readonly name: string;
  readonly value: string;
}

const EQUALS = 0x3d;

/**
 * Splits a raw query string (no leading `?`) into canonical parameters, in received order: split on `&`,
 * then at the first `=`; name and value are percent-decoded and UriEncoded again with `/` escaped and a raw
 * `+` read as a space (docs/s3-sigv4.md "Plus signs"). A parameter without `=` has the empty value (`?acl` →
 * `acl=`); empty components (`a=1&&b=2`) are skipped. Returns `null` for a malformed escape.
 */
export function parseQueryParams(rawQuery: string): QueryParam[] | null {
  const params: QueryParam[] = [];
  const end = rawQuery.length;
  let start = 0;
  while (start <= end) {
    let amp = rawQuery.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      let eq = start;
      while (eq < amp && rawQuery.charCodeAt(eq) !== EQUALS) eq++;
      const name = canonicalizeEncoded(rawQuery, start, eq, false, true);
      const value = eq < amp ? canonicalizeEncoded(rawQuery, eq + 1, amp, false, true) : "";
      if (name === null || value === null) return null;
      params.push({ name, value });
    }
    start = amp + 1;
  }
  return params;
}

function compareParams(a: QueryParam, b: QueryParam): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

/**
 * Joins canonical parameters into the canonical query string: sorted by name, then value, in byte order
 * (canonical text is ASCII, so UTF-16 order is byte order; `Zeta` sorts before `alpha`), as `name=value`
 * joined with `&`. `excludeName` (the presigned `X-Amz-Signature`) is left out.
 */
export function formatCanonicalQuery(params: readonly QueryParam[], excludeName?: string): string {
  const first = params[0];
  if (first === undefined) return "";
  if (params.length === 1 && first.name !== excludeName) return `${first.name}=${first.value}`;
  const sorted = params.filter((p) => p.name !== excludeName).sort(compareParams);
  let out = "";
  for (let i = 0; i < sorted.length; i++)
    out += `${i === 0 ? "" : "&"}${sorted[i]!.name}=${sorted[i]!.value}`;
  return out;
}

/**
 * The canonical query string of a raw query (docs/s3-sigv4.md "Canonical query string"): decode then
 * UriEncode each name and value, valueless names become `name=`, a raw `+` is a space, sort by encoded name
 * then value. With `excludeSignature` (presigned URLs) `X-Amz-Signature` is left out. A malformed escape is
 * 400 InvalidURI.
 */
export function canonicalQuery(rawQuery: string, options?: { excludeSignature?: boolean }): string | S3Error {
  if (rawQuery.length === 0) return "";
  const params = parseQueryParams(rawQuery);
  if (params === null) return new S3Error("InvalidURI");
  return formatCanonicalQuery(params, options?.excludeSignature === true ? "X-Amz-Signature" : undefined);
}
