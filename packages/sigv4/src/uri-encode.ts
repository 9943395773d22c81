/**
 * S3's UriEncode and the percent-encoding normaliser that canonical URIs and query strings are built with
 * (docs/s3-sigv4.md "Canonical URI"). Everything works on UTF-8 bytes: a JS character is encoded as its UTF-8
 * bytes, a `%XX` escape *is* one byte. Because the encoding is byte-wise, "percent-decode to bytes, then
 * UriEncode" is a streaming transform of the text: no byte buffers are needed, and text that is already
 * canonical comes back as a slice without being rebuilt (the common case on the hot path).
 */

/** 1 for the unreserved ASCII bytes `A-Z a-z 0-9 - . _ ~`, which UriEncode never escapes. */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  UNRESERVED[c] = isAlnum || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e ? 1 : 0;
}

/** `%XX` with upper-case hex for every byte value. */
const PERCENT: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
);

const SLASH = 0x2f;
const PERCENT_SIGN = 0x25;
const PLUS = 0x2b;

/** Value of one hex digit (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-encodes the character at `text[i]` (a UTF-16 unit, possibly the first half of a surrogate pair)
 * as its UTF-8 bytes. Returns the escapes and how many UTF-16 units were consumed. A lone surrogate is
 * encoded as U+FFFD, as `Buffer.from(text)` and `TextEncoder` do.
 */
function encodeChar(text: string, i: number, end: number): [escaped: string, units: number] {
  const c = text.charCodeAt(i);
  if (c < 0x80) return [PERCENT[c]!, 1];
  if (c < 0x800) return [PERCENT[0xc0 | (c >> 6)]! + PERCENT[0x80 | (c & 0x3f)]!, 1];
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      return [
        PERCENT[0xf0 | (cp >> 18)]! +
          PERCENT[0x80 | ((cp >> 12) & 0x3f)]! +
          PERCENT[0x80 | ((cp >> 6) & 0x3f)]! +
          PERCENT[0x80 | (cp & 0x3f)]!,
        2,
      ];
    }
  }
  if (c >= 0xd800 && c <= 0xdfff) return ["%EF%BF%BD", 1];
  return [PERCENT[0xe0 | (c >> 12)]! + PERCENT[0x80 | ((c >> 6) & 0x3f)]! + PERCENT[0x80 | (c & 0x3f)]!, 1];
}

/**
 * S3's UriEncode (docs/s3-sigv4.md "Canonical URI"): every UTF-8 byte except `A-Za-z0-9-._~` becomes `%XX`
 * with upper-case hex; space is `%20`, never `+`. `keepSlash` leaves `/` as is (object key names in the
 * path); query names and values are encoded with `keepSlash = false`. Unlike `encodeURIComponent` this also
 * escapes `!'()*`.
 */
export function uriEncode(text: string, keepSlash: boolean): string {
  const end = text.length;
  let out = "";
  let runStart = 0;
  let i = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x80 && (UNRESERVED[c] === 1 || (keepSlash && c === SLASH))) {
      i++;
      continue;
    }
    const [escaped, units] = encodeChar(text, i, end);
    out += text.slice(runStart, i) + escaped;
    i += units;
    runStart = i;
  }
  return runStart === 0 ? text : out + text.slice(runStart);
}

/**
 * The canonical form of `text[start, end)`: percent-decodes it to bytes and UriEncodes the bytes again
 * (S3 decodes the received path/query and re-encodes it, docs/s3-sigv4.md "Canonical URI"). So `%7e` → `~`,
 * `%2f` → `%2F` (or `/` when `keepSlash`), `$` → `%24`, `é` → `%C3%A9`; a raw `+` becomes `%20` when
 * `plusIsSpace`, else `%2B`. Returns `null` for a malformed escape (`%G1`, a lone or truncated `%`).
 * Already-canonical text is returned as a slice, without building a new string.
 */
export function canonicalizeEncoded(
  text: string,
  start: number,
  end: number,
  keepSlash: boolean,
  plusIsSpace: boolean,
): string | null {
  let out = "";
  let runStart = start;
  let changed = false;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 0x80 && (UNRESERVED[c] === 1 || (keepSlash && c === SLASH))) {
      i++;
      continue;
    }
    if (c === PERCENT_SIGN) {
      if (i + 2 >= end) return null;
      const h1 = text.charCodeAt(i + 1);
      const h2 = text.charCodeAt(i + 2);
      const hi = hexDigit(h1);
      const lo = hexDigit(h2);
      if (hi < 0 || lo < 0) return null;
      const byte = hi * 16 + lo;
      if (byte < 0x80 && (UNRESERVED[byte] === 1 || (keepSlash && byte === SLASH))) {
        // An escape of a byte UriEncode leaves alone (`%7E`, or `%2F` in a key): decode it.
        out += text.slice(runStart, i) + String.fromCharCode(byte);
      } else if ((h1 >= 0x61 && h1 <= 0x66) || (h2 >= 0x61 && h2 <= 0x66)) {
        out += text.slice(runStart, i) + PERCENT[byte]!; // lower-case hex: upper-case it
      } else {
        i += 3; // already canonical: stays in the run
        continue;
      }
      changed = true;
      i += 3;
      runStart = i;
      continue;
    }
    const [escaped, units] = c === PLUS && plusIsSpace ? ["%20", 1] : encodeChar(text, i, end);
    out += text.slice(runStart, i) + escaped;
    changed = true;
    i += units;
    runStart = i;
  }
  if (!changed) return start === 0 && end === text.length ? text : text.slice(start, end);
  return out + text.slice(runStart, end);
}

/**
 * Decodes canonical (or any well-formed) percent-encoded text to a string: `%XX` escapes are bytes, other
 * characters their UTF-8 bytes; the bytes are read as UTF-8 (invalid sequences become U+FFFD). A raw `+`
 * stays `+`: pass canonical text, in which a space is always `%20`. Returns `null` for a malformed escape.
 */
export function percentDecode(text: string): string | null {
  let first = text.indexOf("%");
  if (first === -1) return text;
  // Fast path for ASCII escapes (`%2F` in X-Amz-Credential, `%3B` in X-Amz-SignedHeaders): no byte buffer.
  let out = "";
  let runStart = 0;
  while (first !== -1) {
    const hi = first + 2 < text.length ? hexDigit(text.charCodeAt(first + 1)) : -1;
    const lo = hi < 0 ? -1 : hexDigit(text.charCodeAt(first + 2));
    if (lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte >= 0x80) return percentDecodeBytes(text);
    out += text.slice(runStart, first) + String.fromCharCode(byte);
    runStart = first + 3;
    first = text.indexOf("%", runStart);
  }
  return out + text.slice(runStart);
}

/** `percentDecode` for text with escapes of non-ASCII bytes: decoded as bytes, read as UTF-8. */
function percentDecodeBytes(text: string): string | null {
  const bytes = Buffer.from(text, "utf8");
  let w = 0;
  for (let r = 0; r < bytes.length; r++) {
    const b = bytes[r]!;
    if (b !== PERCENT_SIGN) {
      bytes[w++] = b;
      continue;
    }
    const hi = r + 2 < bytes.length ? hexDigit(bytes[r + 1]!) : -1;
    const lo = hi < 0 ? -1 : hexDigit(bytes[r + 2]!);
    if (lo < 0) return null;
    bytes[w++] = hi * 16 + lo;
    r += 2;
  }
  return bytes.toString("utf8", 0, w);
}
