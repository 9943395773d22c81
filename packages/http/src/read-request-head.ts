import { formatRemoteAddress } from "./format-remote-address.js";
import type { UwsRequest, UwsResponse } from "./uws-types.js";

/**
 * A request's head, every field copied out of uWS synchronously: uWS request objects are stack-allocated and
 * die when the handler returns (so at the first `await`).
 */
export interface IncomingRequest {
  /** Upper-case (`GET`, `PUT`, …). */
  readonly method: string;
  /**
   * The request-target up to `?`, exactly as received: percent-encoding, `//`, `%2F`, `.`/`..` segments
   * untouched. HTTP allows only ASCII here; raw non-ASCII bytes arrive as the UTF-8 text they encode (requests
   * whose target is not valid UTF-8 are refused with 400, since they could not be passed on byte-exactly).
   */
  readonly rawPath: string;
  /** After the first `?`, `''` when there is none or nothing follows it. */
  readonly rawQuery: string;
  /**
   * Lower-case names, values trimmed of surrounding whitespace, in received order, duplicates kept. Values are
   * UTF-8 decoded (requests with a value that is not UTF-8 are refused with 400); uWS's trim also drops any
   * non-ASCII bytes at either end of a value, which cannot be seen here (README).
   */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `127.0.0.1`, or canonical IPv6 (`::1`); IPv4-mapped IPv6 peers as their IPv4 address. */
  readonly remoteAddress: string;
  /** `Date.now()` when the head was handed to the package. */
  readonly receivedAtMs: number;
}

/** Per-request data; one class so every request object has the same shape. */
class UwsIncomingRequest implements IncomingRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly remoteAddress: string;
  readonly receivedAtMs: number;

  constructor(
    method: string,
    rawPath: string,
    rawQuery: string,
    headers: ReadonlyArray<readonly [string, string]>,
    remoteAddress: string,
    receivedAtMs: number,
  ) {
    this.method = method;
    this.rawPath = rawPath;
    this.rawQuery = rawQuery;
    this.headers = headers;
    this.remoteAddress = remoteAddress;
    this.receivedAtMs = receivedAtMs;
  }
}

/**
 * What the framing check and the exchange need to know about the head, gathered in the same pass. One
 * module-level object, overwritten by every `readRequestHead` call: read it before the handler returns.
 */
export interface HeadFacts {
  /**
   * Size of the head (request line + header lines) in UTF-16 units: its size in bytes if all ASCII; otherwise
   * the bytes are more, at most three times as many (`requestHeadBytes` counts them).
   */
  headBytes: number;
  /** Set when a header value holds U+FFFD: uWS decoded bytes that were not UTF-8. */
  invalidHeaderValue: boolean;
  /** The first `content-length` value, `null` when none. */
  contentLength: string | null;
  /** Set when two `content-length` headers disagree. */
  contentLengthConflict: boolean;
  transferEncoding: string | null;
  transferEncodingCount: number;
}

// uWS only offers a callback per header; collecting into module-level state avoids allocating a closure per
// request. The scan is synchronous and never re-entered.
export const headFacts: HeadFacts = {
  headBytes: 0,
  invalidHeaderValue: false,
  contentLength: null,
  contentLengthConflict: false,
  transferEncoding: null,
  transferEncodingCount: 0,
};
let collected: Array<readonly [string, string]> = [];

function collectHeader(name: string, value: string): void {
  collected.push([name, value]);
  headFacts.headBytes += name.length + value.length + 4;
  // Not a scan: V8 fails a search for a character above U+00FF at once in a string it stores one byte per
  // character (ASCII or Latin-1 values: nearly all): ~8 ns a header, where a charCodeAt loop costs ~70.
  if (value.includes("\uFFFD")) headFacts.invalidHeaderValue = true;
  // Dispatch on length first: most headers then cost one integer compare.
  switch (name.length) {
    case 14:
      if (name === "content-length") {
        if (headFacts.contentLength === null) headFacts.contentLength = value;
        else if (headFacts.contentLength !== value) headFacts.contentLengthConflict = true;
      }
      break;
    case 17:
      if (name === "transfer-encoding") {
        headFacts.transferEncoding = value;
        headFacts.transferEncodingCount++;
      }
      break;
  }
}

// getMethod() is lower-case in this build; mapping the common ones avoids a toUpperCase() per request.
const METHODS: Readonly<Record<string, string>> = {
  get: "GET",
  head: "HEAD",
  put: "PUT",
  post: "POST",
  delete: "DELETE",
  options: "OPTIONS",
  patch: "PATCH",
};

/**
 * Copies the head out of uWS, and gathers `headFacts` for the framing check on the way. Must run synchronously
 * inside the uWS request handler.
 */
export function readRequestHead(res: UwsResponse, req: UwsRequest): IncomingRequest {
  const lower = req.getMethod();
  const method = METHODS[lower] ?? lower.toUpperCase();
  const rawPath = req.getUrl();
  const rawQuery = req.getQuery() ?? "";
  headFacts.headBytes = method.length + rawPath.length + rawQuery.length + 13; // " ", "?", " HTTP/1.1\r\n"
  headFacts.invalidHeaderValue = false;
  headFacts.contentLength = null;
  headFacts.contentLengthConflict = false;
  headFacts.transferEncoding = null;
  headFacts.transferEncodingCount = 0;
  const headers: Array<readonly [string, string]> = [];
  collected = headers;
  req.forEach(collectHeader);
  const remoteAddress = formatRemoteAddress(Buffer.from(res.getRemoteAddressAsText()).toString("latin1"));
  return new UwsIncomingRequest(method, rawPath, rawQuery, headers, remoteAddress, Date.now());
}

/**
 * The exact size in bytes of the head `headFacts.headBytes` was counted for (non-ASCII characters take two to
 * four bytes in UTF-8). Only needed when that count is close to a limit, so it is not paid on every request.
 */
export function requestHeadBytes(request: IncomingRequest): number {
  let bytes =
    request.method.length + Buffer.byteLength(request.rawPath) + Buffer.byteLength(request.rawQuery) + 13;
  const headers = request.headers;
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    bytes += header[0].length + Buffer.byteLength(header[1]) + 4;
  }
  return bytes;
}
