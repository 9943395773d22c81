import { STATUS_CODES } from "node:http";

/**
 * Status lines and the response headers the package drops. uWS writes `Date`, `Content-Length` (from `end`,
 * `tryEnd` and our `endWithoutBody`) and `Transfer-Encoding: chunked` (from `write`) itself, and manages the
 * connection; a caller passing upstream headers through would otherwise send them twice or contradict uWS.
 */

// RFC 9110 §7.6.1 hop-by-hop fields (plus the obsolete `keep-alive`/`proxy-connection`), and the framing
// fields uWS writes itself.
const DROPPED_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
  "date",
]);

/** Whether a response header is dropped rather than written (any case). */
export function isDroppedResponseHeader(name: string): boolean {
  // Only names of these lengths can match: most headers skip the toLowerCase() copy.
  switch (name.length) {
    case 2:
    case 4:
    case 7:
    case 10:
    case 14:
    case 16:
    case 17:
      return DROPPED_HEADERS.has(name.toLowerCase());
    default:
      return false;
  }
}

const statusLines = new Map<number, string>();

/** `"200 OK"` for `writeStatus`, built once per status code. */
export function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? "Unknown"}`;
    statusLines.set(status, line);
  }
  return line;
}

// Field names are tokens (RFC 9110 §5.1); values may not hold CR, LF or NUL (§5.5). uWS writes both as given,
// so a stray CR/LF would split the response.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

/** Throws a TypeError naming the first header that would corrupt the response. */
export function assertValidResponseHeaders(headers: ReadonlyArray<readonly [string, string]>): void {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (!TOKEN.test(name)) throw new TypeError(`invalid response header name ${JSON.stringify(name)}`);
    if (BAD_VALUE.test(value)) throw new TypeError(`invalid value for response header ${name}`);
  }
}

/** Whether a response with this status may carry Content-Length (RFC 9110 §8.6: never on 1xx or 204). */
export function statusAllowsContentLength(status: number): boolean {
  return status >= 200 && status !== 204;
}
