/**
 * Percent-decoding done once, to bytes, then to UTF-8 text, refusing what S3 refuses. Never
 * `decodeURIComponent` (throws, and cannot treat `+` as space) nor `new URL()` (normalises `.`, `..`, `\`).
 */

/** Nothing to decode: no escape, no `+`, only ASCII. The common case returns its input unchanged. */
const NEEDS_DECODING = /[%+\u0080-\uffff]/;

// fatal: invalid UTF-8 (overlongs, encoded surrogates, truncated sequences) is an error, not U+FFFD.
// ignoreBOM: a key may begin with U+FEFF; the default decoder would silently drop it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Hex digit value of a UTF-16 code unit, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Decodes `raw` once: `%XX` (either hex case) becomes byte XX, a raw `+` becomes a space when `plusIsSpace`
 * (else stays `+`), any other character contributes its own UTF-8 bytes; the bytes are then read as UTF-8.
 * Returns `null` for a malformed escape (`%G1`, a lone or truncated `%`), a lone surrogate in `raw`, or
 * bytes that are not valid UTF-8; the caller answers InvalidURI. Pure; never throws.
 */
export function decodePercent(raw: string, plusIsSpace: boolean): string | null {
  if (!NEEDS_DECODING.test(raw)) return raw;
  // Each UTF-16 unit yields at most 3 bytes (a surrogate pair: 4 bytes for 2 units); an escape 1 for 3.
  const bytes = new Uint8Array(raw.length * 3);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      bytes[n++] = (hi << 4) | lo;
      i += 2;
    } else if (code === 0x2b /* + */) {
      bytes[n++] = plusIsSpace ? 0x20 : 0x2b;
    } else if (code < 0x80) {
      bytes[n++] = code;
    } else if (code < 0x800) {
      bytes[n++] = 0xc0 | (code >> 6);
      bytes[n++] = 0x80 | (code & 0x3f);
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const low = raw.charCodeAt(i + 1);
      if (code > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return null;
      const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      bytes[n++] = 0xf0 | (point >> 18);
      bytes[n++] = 0x80 | ((point >> 12) & 0x3f);
      bytes[n++] = 0x80 | ((point >> 6) & 0x3f);
      bytes[n++] = 0x80 | (point & 0x3f);
      i++;
    } else {
      bytes[n++] = 0xe0 | (code >> 12);
      bytes[n++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[n++] = 0x80 | (code & 0x3f);
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return null;
  }
}
