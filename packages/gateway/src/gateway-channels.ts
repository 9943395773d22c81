import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events the gateway publishes; the server turns them into metrics. Events are built
 * only when a subscriber exists (`hasSubscribers`), so an unobserved gateway pays one property read.
 */

/** Published exactly once per request, when it is finished (answered, failed or aborted). */
export const GATEWAY_REQUEST_CHANNEL = "osp:gateway:request";

export interface GatewayRequestEvent {
  /** S3 operation (`GetObject`, …; `Unknown` when the request failed before it was classified). */
  readonly operation: string;
  readonly method: string;
  /** Status sent to the client; 0 when the client went away first. */
  readonly status: number;
  /** The bucket named by the client, `null` for service-level requests and unparsable targets. */
  readonly bucket: string | null;
  /** S3 error code the gateway answered or closed with (`AccessDenied`, `ClientAborted`…), `null` otherwise. */
  readonly errorCode: string | null;
  /** Which phase refused the request: "authenticate", "authorize", or `null`. */
  readonly refusedBy: "authenticate" | "authorize" | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Whole request, in seconds. */
  readonly durationSeconds: number;
  /** Until the upstream's response headers, in seconds; 0 when no upstream request was made. */
  readonly upstreamSeconds: number;
}

export const gatewayRequestChannel = diagnosticsChannel.channel(GATEWAY_REQUEST_CHANNEL);

/** Published when an endpoint's own bucket listing (for ListBuckets) fails; its buckets are left out. */
export const LIST_BUCKETS_FAILURE_CHANNEL = "osp:gateway:list-buckets-failure";

export interface ListBucketsFailureEvent {
  /** The endpoint's name in the config (a bounded label). */
  readonly endpoint: string;
}

export const listBucketsFailureChannel = diagnosticsChannel.channel(LIST_BUCKETS_FAILURE_CHANNEL);
