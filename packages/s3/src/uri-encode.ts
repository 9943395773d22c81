/**
 * S3's UriEncode (protocol.md §1.2, [doc S-HDR]): every UTF-8 byte except the unreserved
 * `A-Z a-z 0-9 - . _ ~` becomes `%XX` with uppercase hex; space is `%20`, never `+`. Unlike
 * `encodeURIComponent` it also encodes `!'()*`, which S3 canonicalises encoded.
 */

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

/** `%XX` for each byte value, uppercase hex. */
const ESCAPES: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
);

/** What each ASCII character becomes: itself when unreserved, else its escape. `/` is handled by the caller. */
const ASCII: readonly string[] = Array.from({ length: 128 }, (_, c) =>
  UNRESERVED.test(String.fromCharCode(c)) ? String.fromCharCode(c) : (ESCAPES[c] as string),
);

function encode(value: string, keepSlash: boolean): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) {
      out += keepSlash && code === 0x2f ? "/" : ASCII[code];
    } else if (code < 0x800) {
      out += ESCAPES[0xc0 | (code >> 6)]! + ESCAPES[0x80 | (code & 0x3f)]!;
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(value.charCodeAt(i + 1))) {
      const point = 0x10000 + ((code - 0xd800) << 10) + (value.charCodeAt(i + 1) - 0xdc00);
      out +=
        ESCAPES[0xf0 | (point >> 18)]! +
        ESCAPES[0x80 | ((point >> 12) & 0x3f)]! +
        ESCAPES[0x80 | ((point >> 6) & 0x3f)]! +
        ESCAPES[0x80 | (point & 0x3f)]!;
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // A lone surrogate has no UTF-8 form; encode U+FFFD as TextEncoder would, rather than throw.
      out += "%EF%BF%BD";
    } else {
      out +=
        ESCAPES[0xe0 | (code >> 12)]! +
        ESCAPES[0x80 | ((code >> 6) & 0x3f)]! +
        ESCAPES[0x80 | (code & 0x3f)]!;
    }
  }
  return out;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * UriEncode of a query name or value, a bucket name or a version id: `/` is encoded too (`%2F`).
 * A lone surrogate (not well-formed UTF-16) is encoded as U+FFFD. Pure; never throws.
 */
export function uriEncode(value: string): string {
  return UNRESERVED.test(value) ? value : encode(value, false);
}

/**
 * UriEncode of an object key for an upstream path: like `uriEncode`, but `/` stays `/` because it is part of
 * the key ("encode `/` everywhere except in the object key name" [doc S-HDR]). Decoding the result once
 * gives back `key` exactly, so `//`, `.` and `..` segments survive. Pure; never throws.
 */
export function encodeKeyPath(key: string): string {
  return UNRESERVED_OR_SLASH.test(key) ? key : encode(key, true);
}
