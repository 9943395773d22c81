import type { HttpRejectedEvent } from "./http-channels.js";
import { type HeadFacts, type IncomingRequest, requestHeadBytes } from "./read-request-head.js";

/**
 * The checks uWS leaves to us. This build closes the connection on a lower-case method and on
 * `Content-Length` together with `Transfer-Encoding`, never answers a head it cannot parse (README), and calls
 * the route handler for a non-numeric `Content-Length` before failing the parse and closing. It passes two
 * disagreeing `Content-Length`s, and transfer codings it does not decode. A proxy must not guess where such a
 * body ends (RFC 9112 §6.3: request smuggling), so these are refused before any handler sees them (the answer
 * to a non-numeric length is lost when uWS closes, but no handler starts work on it). uWS decodes the target
 * and header values as UTF-8, replacing bytes that are not with U+FFFD; such a request cannot be passed on (or
 * its signature checked) byte-exactly, so it is refused too.
 */

export interface Rejection {
  readonly status: 400 | 413 | 431 | 501;
  readonly reason: HttpRejectedEvent["reason"];
}

const INVALID_TARGET: Rejection = { status: 400, reason: "invalid-request-target" };
const INVALID_HEADER_VALUE: Rejection = { status: 400, reason: "invalid-header-value" };
const INVALID_LENGTH: Rejection = { status: 400, reason: "invalid-content-length" };
const LENGTH_AND_CODING: Rejection = { status: 400, reason: "content-length-with-transfer-encoding" };
const UNSUPPORTED_CODING: Rejection = { status: 501, reason: "unsupported-transfer-encoding" };
const LENGTH_TOO_LARGE: Rejection = { status: 413, reason: "content-length-too-large" };
const HEADER_TOO_LARGE: Rejection = { status: 431, reason: "header-too-large" };

// S3's largest object is 5 TiB (13 digits); 15 digits stay exact as a JS number.
const CONTENT_LENGTH = /^[0-9]{1,15}$/;
// This uWS build calls the handler for a length of ten or more digits (leading zeros count), then fails its
// parse and closes the connection (README "Limits"): refuse those first, so no handler starts work on one.
const UWS_CONTENT_LENGTH = /^[0-9]{1,9}$/;

/** `null` when the request may go to the handler, otherwise how to refuse it. */
export function checkRequestFraming(
  request: IncomingRequest,
  facts: HeadFacts,
  maxHeaderBytes: number,
): Rejection | null {
  // U+FFFD: bytes that were not UTF-8 (uWS decodes as UTF-8), which cannot be passed on byte-exactly.
  if (request.rawPath.includes("\uFFFD") || request.rawQuery.includes("\uFFFD")) return INVALID_TARGET;
  if (facts.invalidHeaderValue) return INVALID_HEADER_VALUE;
  if (facts.transferEncoding !== null) {
    if (facts.contentLength !== null) return LENGTH_AND_CODING;
    // RFC 9112 §6.1: a coding the server does not understand is answered 501.
    if (facts.transferEncodingCount !== 1 || facts.transferEncoding.toLowerCase() !== "chunked") {
      return UNSUPPORTED_CODING;
    }
  }
  if (
    facts.contentLength !== null &&
    (facts.contentLengthConflict || !CONTENT_LENGTH.test(facts.contentLength))
  ) {
    return INVALID_LENGTH;
  }
  if (facts.contentLength !== null && !UWS_CONTENT_LENGTH.test(facts.contentLength)) return LENGTH_TOO_LARGE;
  if (facts.headBytes > maxHeaderBytes) return HEADER_TOO_LARGE;
  // A UTF-16 unit is at most three UTF-8 bytes: only a head over a third of the limit has its bytes counted.
  if (facts.headBytes * 3 > maxHeaderBytes && requestHeadBytes(request) > maxHeaderBytes) {
    return HEADER_TOO_LARGE;
  }
  return null;
}

/** Whether the request carries a body: chunked, or a `Content-Length` other than zero. */
export function requestHasBody(facts: HeadFacts): boolean {
  if (facts.transferEncoding !== null) return true;
  const length = facts.contentLength;
  if (length === null) return false;
  for (let i = 0; i < length.length; i++) if (length.charCodeAt(i) !== 48) return true;
  return false;
}
