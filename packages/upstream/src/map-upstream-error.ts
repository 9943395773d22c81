import { S3Error } from "@osp/errors";

/**
 * Turns whatever the client (h1/), the socket or the caller raised into the gateway's one error model. Codes are ones
 * S3 clients retry (503 ServiceUnavailable, 500 InternalError) whenever a retry can help. Messages are fixed
 * sentences without host names; the original error stays in `cause` for the logs.
 *
 * | what happened                                              | before headers           | after headers  |
 * |------------------------------------------------------------|--------------------------|----------------|
 * | refused, unreachable, DNS failure, connect timeout, TLS    | ServiceUnavailable 503   | InternalError 500 |
 * | headers timeout, origin stopped reading the request body   | ServiceUnavailable 503   | (cannot occur) |
 * | no connection came free within queueTimeoutMs              | ServiceUnavailable 503   | (cannot occur) |
 * | the caller kept the response paused past pausedTimeoutMs   | (cannot occur)  | RequestTimeout 400, downstream |
 * | reset, closed socket, EPIPE, EOF before the response's end | ServiceUnavailable 503   | InternalError 500 |
 * | body timeout                                               | InternalError 500        | InternalError 500 |
 * | unparsable response, headers too large                     | InternalError 500        | InternalError 500 |
 * | pool closed or destroyed (shutdown)                        | ServiceUnavailable 503, source internal    |
 * | invalid request (header, path, length mismatch)            | InternalError 500, source internal         |
 * | an `S3Error` passed to `UpstreamBody.destroy()`            | that error, unchanged                      |
 *
 * After the headers, any lost connection (a TLS alert, a TCP timeout, a reset) is an InternalError: the client
 * already has a status line, and the gateway closes its connection rather than end a truncated body.
 */
export function mapUpstreamError(err: unknown, headersReceived: boolean): S3Error {
  if (err instanceof S3Error) return err;
  const code = errorCode(err);
  const lost = UNREACHABLE.has(code) || isTlsFailure(code) || CONNECTION_LOST.has(code);
  if (lost && headersReceived) {
    return upstream("InternalError", "The upstream object store closed the connection mid-response.", err);
  }
  if (UNREACHABLE.has(code) || isTlsFailure(code)) {
    return upstream("ServiceUnavailable", "The upstream object store could not be reached.", err);
  }
  if (code === "OSP_HEADERS_TIMEOUT" || code === "OSP_SEND_TIMEOUT") {
    return upstream("ServiceUnavailable", "The upstream object store did not answer in time.", err);
  }
  if (code === "OSP_QUEUE_TIMEOUT") {
    return upstream(
      "ServiceUnavailable",
      "Too many requests are waiting for the upstream object store.",
      err,
    );
  }
  if (code === "OSP_PAUSED_TIMEOUT") {
    // The client stopped reading its response: the upstream connection is not held for it any longer.
    return new S3Error("RequestTimeout", undefined, { source: "downstream", cause: err });
  }
  if (CONNECTION_LOST.has(code)) {
    return upstream("ServiceUnavailable", "The upstream object store closed the connection.", err);
  }
  if (code === "OSP_BODY_TIMEOUT") {
    return upstream("InternalError", "The upstream object store stopped sending the response.", err);
  }
  if (code === "OSP_BAD_RESPONSE" || code === "OSP_HEADERS_OVERFLOW") {
    return upstream("InternalError", "The upstream object store sent an invalid response.", err);
  }
  if (code === "OSP_POOL_CLOSED" || code === "OSP_POOL_DESTROYED") {
    return new S3Error("ServiceUnavailable", "The gateway is shutting down.", {
      source: "internal",
      cause: err,
    });
  }
  return new S3Error("InternalError", undefined, { source: "internal", cause: err });
}

function upstream(code: "ServiceUnavailable" | "InternalError", message: string, cause: unknown): S3Error {
  return new S3Error(code, message, { source: "upstream", cause });
}

function errorCode(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  return "";
}

const UNREACHABLE: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "OSP_CONNECT_TIMEOUT",
]);

const CONNECTION_LOST: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "OSP_SOCKET_CLOSED",
  "OSP_INCOMPLETE_RESPONSE",
]);

/** OpenSSL verification codes (`CERT_HAS_EXPIRED`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …) and Node's `ERR_TLS_*`. */
function isTlsFailure(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code.startsWith("UNABLE_TO_") ||
    code === "HOSTNAME_MISMATCH"
  );
}
