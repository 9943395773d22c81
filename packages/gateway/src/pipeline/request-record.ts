/**
 * What the logs and metrics learn of one request (docs/architecture.md "Respond and log"): a plain record the
 * exchange fills in as the request goes, handed over once when it is finished. It is the access line itself
 * (`AccessLine` of @osp/log), so writing the line builds no other object.
 */
import { type AccessLine, type Logger, writeAccessLine } from "@osp/log";
import { type GatewayRequestEvent, gatewayRequestChannel } from "../gateway-channels.js";

export class RequestRecord implements AccessLine {
  readonly requestId: string;
  readonly method: string;
  /** The TCP peer's address. */
  readonly remote: string;
  /** `performance.now()` when the exchange began. */
  readonly startedAtMs: number;
  /** The S3 operation, `Unknown` until the request is classified. */
  operation: string;
  /** The bucket the client named; `null` for service-level requests and unparsable targets. */
  bucket: string | null;
  principal: string | null;
  /** Status sent to the client; 0 when none was. */
  status: number;
  /** The S3 error code osp answered or closed with (`AccessDenied`, `ClientAborted`…), `null` otherwise. */
  error: string | null;
  /** Which phase refused the request, `null` if none did. */
  refusedBy: "authenticate" | "authorize" | null;
  bytesIn: number;
  bytesOut: number;
  /** Until the upstream's response headers (0 when no upstream request was made); rounded by `logRequest`. */
  upstreamMs: number;
  /** Set by `logRequest`. */
  durationMs: number;

  constructor(requestId: string, method: string, remote: string) {
    this.requestId = requestId;
    this.method = method;
    this.remote = remote;
    this.startedAtMs = performance.now();
    this.operation = "Unknown";
    this.bucket = null;
    this.principal = null;
    this.status = 0;
    this.error = null;
    this.refusedBy = null;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.upstreamMs = 0;
    this.durationMs = 0;
  }
}

/**
 * Publishes the request event the metrics count and, when `accessLog`, writes the access line. Called exactly
 * once per request; its fields hold no secret, so the line skips the logger's redaction pass.
 */
export function logRequest(record: RequestRecord, log: Logger, accessLog: boolean): void {
  const elapsedMs = performance.now() - record.startedAtMs;
  if (gatewayRequestChannel.hasSubscribers) {
    const event: GatewayRequestEvent = {
      operation: record.operation,
      method: record.method,
      status: record.status,
      bucket: record.bucket,
      errorCode: record.error,
      refusedBy: record.refusedBy,
      bytesIn: record.bytesIn,
      bytesOut: record.bytesOut,
      durationSeconds: elapsedMs / 1000,
      upstreamSeconds: record.upstreamMs / 1000,
    };
    gatewayRequestChannel.publish(event);
  }
  if (!accessLog) return;
  record.durationMs = Math.round(elapsedMs * 1000) / 1000;
  record.upstreamMs = Math.round(record.upstreamMs * 1000) / 1000;
  writeAccessLine(log, record);
}
