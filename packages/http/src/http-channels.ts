import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events this package publishes; the server turns them into metrics and logs. Events are
 * built only when a subscriber exists (`hasSubscribers`), so an unobserved gateway pays one property read.
 */

/** Published when the package answers a request itself, before the handler ever sees it. */
export const HTTP_REJECTED_CHANNEL = "osp:http:rejected";

export interface HttpRejectedEvent {
  /** 400, 413, 431 or 501; the connection is closed after the answer (uWS drops it for a bad length). */
  readonly status: number;
  readonly reason:
    | "invalid-content-length"
    | "content-length-too-large"
    | "content-length-with-transfer-encoding"
    | "unsupported-transfer-encoding"
    | "header-too-large"
    | "invalid-request-target"
    | "invalid-header-value";
  readonly method: string;
  readonly remoteAddress: string;
}

/**
 * Published when a handler or one of its callbacks (body data, writable, aborted) throws. The package catches
 * it rather than let it unwind into uWS (which would take the whole worker down), answers 500 if no response
 * started, and otherwise closes the connection.
 */
export const HTTP_CALLBACK_ERROR_CHANNEL = "osp:http:callback-error";

export interface HttpCallbackErrorEvent {
  readonly error: unknown;
  readonly callback: "handler" | "data" | "writable" | "aborted";
}

export const httpRejectedChannel = diagnosticsChannel.channel(HTTP_REJECTED_CHANNEL);
export const httpCallbackErrorChannel = diagnosticsChannel.channel(HTTP_CALLBACK_ERROR_CHANNEL);
