import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events this package publishes; the server turns them into metrics and logs. Events are
 * built only when a subscriber exists (`hasSubscribers`), so an unobserved gateway pays one property read.
 */

/** Published once per `sendUpstream` call, when it settles (complete, error or aborted). */
export const UPSTREAM_REQUEST_CHANNEL = "osp:upstream:request";

export interface UpstreamRequestEvent {
  readonly origin: string;
  readonly method: string;
  /** Response status, 0 when no headers arrived. */
  readonly status: number;
  /** From `sendUpstream` to the response headers, -1 when none arrived. */
  readonly headersMs: number;
  /** From `sendUpstream` to settling. */
  readonly durationMs: number;
  /** Request body bytes handed to the `UpstreamBody`. */
  readonly bytesSent: number;
  /** Response body bytes received. */
  readonly bytesReceived: number;
  readonly outcome: "complete" | "error" | "aborted";
  /** The S3 code of the mapped error (`ServiceUnavailable`, …), `null` unless outcome is "error". */
  readonly errorCode: string | null;
  /**
   * The deadline that ended the call, or null: `queue` (no connection came free within queueTimeoutMs), `paused`
   * (the caller kept the response paused past pausedTimeoutMs), or the connection's own.
   */
  readonly timeout: "connect" | "headers" | "body" | "send" | "queue" | "paused" | null;
}

/** Published once per IAM token fetch, foreground or background. */
export const IAM_TOKEN_CHANNEL = "osp:upstream:iam-token";

export interface IamTokenEvent {
  /** The token endpoint (`scheme://host/path`), never the key. */
  readonly iamUrl: string;
  readonly outcome: "ok" | "error";
  /** HTTP status from IAM, 0 when it could not be reached. */
  readonly status: number;
  readonly durationMs: number;
  /** True when the fetch refreshed a still-valid token ahead of expiry. */
  readonly background: boolean;
  /** IAM's own error code (`BXNIM0415E`, …) when it sent one. */
  readonly iamErrorCode: string | null;
  /** IAM refused the API key (400/401/403): the endpoint's `auth.apiKey` must be fixed; no retry helps. */
  readonly apiKeyRefused: boolean;
}

export const upstreamRequestChannel = diagnosticsChannel.channel(UPSTREAM_REQUEST_CHANNEL);
export const iamTokenChannel = diagnosticsChannel.channel(IAM_TOKEN_CHANNEL);
