/**
 * The request line and headers of one upstream request, as the one latin1 string written to the socket.
 * Everything the gateway passes is checked here, because a CR or LF that reached the wire would let a client
 * append a request of its own (request splitting).
 */

/** A request the client refuses to send; maps to InternalError (source internal): the gateway built it. */
export class InvalidUpstreamRequestError extends Error {
  readonly code = "OSP_INVALID_REQUEST";

  constructor(message: string) {
    super(message);
    this.name = "InvalidUpstreamRequestError";
  }
}

/** RFC 9110 token characters, for methods and header names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value: visible latin1 characters, space and tab (no CR, LF, NUL or other controls). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** origin-form target: starts with `/`, then anything visible (percent-encoding is the caller's job). */
const TARGET = /^\/[\x21-\x7e\x80-\xff]*$/;
/** Framing and connection management belong to this client; a caller's copy would conflict with ours. */
const REFUSED = new Set([
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "expect",
  "te",
  "trailer",
]);

/** Methods that carry a body by definition: without one they still send `content-length: 0`. */
const BODY_METHODS = new Set(["PUT", "POST", "PATCH"]);

/**
 * `method path HTTP/1.1`, then `host`, `connection: keep-alive`, the other headers in order, then
 * `content-length` when there is a body (or the method expects one). `contentLength` is the body's length,
 * or -1 for no body. Throws `InvalidUpstreamRequestError`.
 */
export function buildRequestHead(
  method: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  contentLength: number,
): string {
  if (!TOKEN.test(method)) throw new InvalidUpstreamRequestError("invalid method");
  if (!TARGET.test(path)) throw new InvalidUpstreamRequestError("invalid request target");
  let host: string | null = null;
  let rest = "";
  let givenLength: string | null = null;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new InvalidUpstreamRequestError("invalid header name");
    if (!FIELD_VALUE.test(value)) throw new InvalidUpstreamRequestError(`invalid value for header ${name}`);
    // Every name this function looks for has at most 17 characters ("transfer-encoding").
    const lower = name.length <= 17 ? name.toLowerCase() : name;
    if (lower === "host") {
      if (host !== null) throw new InvalidUpstreamRequestError("two host headers");
      host = value;
      continue;
    }
    if (lower === "content-length") {
      givenLength = value;
      continue;
    }
    if (REFUSED.has(lower)) throw new InvalidUpstreamRequestError(`header ${lower} is managed by the client`);
    rest += `${name}: ${value}\r\n`;
  }
  if (host === null) throw new InvalidUpstreamRequestError("no host header");
  const length = contentLength >= 0 ? contentLength : BODY_METHODS.has(method) ? 0 : -1;
  if (givenLength !== null && givenLength !== String(Math.max(length, 0))) {
    throw new InvalidUpstreamRequestError("content-length does not match the body");
  }
  const lengthLine = length >= 0 ? `content-length: ${length}\r\n` : "";
  return `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n${rest}${lengthLine}\r\n`;
}
