/**
 * One aws-chunked chunk-header line (docs/s3-sigv4.md "Framing"), parsed from bytes without its CRLF:
 * `hex-size` in unsigned mode, `hex-size;chunk-signature=<64 hex>` in signed modes.
 */
import { S3Error } from "@osp/errors";

const SIGNATURE_EXTENSION = Buffer.from(";chunk-signature=", "latin1");
/** 13 hex digits already exceed 2^52; more than 16 (with leading zeros) is not a size any client sends. */
const MAX_HEX_DIGITS = 16;

/**
 * Parses the chunk header in `line[start, end)` and returns the chunk size (0 = the terminal chunk). Sizes
 * are hex of either case (SDKs send lower-case). With `signatureOut` (signed modes) the line must carry
 * exactly the `chunk-signature` extension, whose 32 bytes are decoded into `signatureOut`; without it
 * (unsigned mode) every extension is refused. Malformed framing is 400 IncompleteBody (docs/s3-sigv4.md
 * "Framing").
 */
export function parseChunkHeader(
  line: Uint8Array,
  start: number,
  end: number,
  signatureOut: Buffer | null,
): number {
  let size = 0;
  let i = start;
  while (i < end) {
    const digit = hexValue(line[i]!);
    if (digit < 0) break;
    size = size * 16 + digit;
    i++;
  }
  if (i === start) throw malformedChunk("the chunk size is not hexadecimal");
  if (i - start > MAX_HEX_DIGITS || size > Number.MAX_SAFE_INTEGER)
    throw malformedChunk("the chunk size is too large");
  if (signatureOut === null) {
    if (i !== end) throw malformedChunk("unexpected chunk extension in an unsigned aws-chunked body");
    return size;
  }
  const hexStart = i + SIGNATURE_EXTENSION.length;
  if (
    end - hexStart !== 64 ||
    !startsWith(line, i, SIGNATURE_EXTENSION) ||
    !decodeHex(line, hexStart, signatureOut)
  ) {
    throw malformedChunk("a signed chunk needs exactly ;chunk-signature=<64 hex>");
  }
  return size;
}

/** True when `text[from, to)` is all hex digits (either case). */
export function isHex(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexValue(text.charCodeAt(i)) < 0) return false;
  return true;
}

/** The 400 IncompleteBody of malformed aws-chunked framing, with what was wrong. */
export function malformedChunk(what: string): S3Error {
  return new S3Error("IncompleteBody", `The aws-chunked body is malformed: ${what}.`);
}

function startsWith(line: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let k = 0; k < expected.length; k++) if (line[at + k] !== expected[k]) return false;
  return true;
}

/** Decodes 64 hex characters at `from` into the 32 bytes of `out`; false on a non-hex character. */
function decodeHex(line: Uint8Array, from: number, out: Buffer): boolean {
  for (let k = 0; k < 32; k++) {
    const high = hexValue(line[from + 2 * k]!);
    const low = hexValue(line[from + 2 * k + 1]!);
    if (high < 0 || low < 0) return false;
    out[k] = (high << 4) | low;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return -1;
}
