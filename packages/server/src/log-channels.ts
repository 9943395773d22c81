/**
 * The worker's log lines for the other packages' `diagnostics_channel` events (the server turns events into
 * logs and metrics; the packages below it never log these themselves). Only facts are logged: origins, codes,
 * statuses and timings, never a header, query string, key or token.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { errorMessage } from "@osp/errors";
import type { Logger } from "@osp/log";

interface UpstreamRequest {
  origin: string;
  method: string;
  status: number;
  headersMs: number;
  durationMs: number;
  bytesSent: number;
  bytesReceived: number;
  outcome: string;
  errorCode: string | null;
}
interface IamToken {
  iamUrl: string;
  outcome: "ok" | "error";
  status: number;
  durationMs: number;
  background: boolean;
  iamErrorCode: string | null;
  /** IAM answered that the API key itself is invalid: no retry will help. */
  apiKeyRefused: boolean;
}

/** Subscribes; returns the function that unsubscribes again. */
export function subscribeLogChannels(log: Logger): () => void {
  const listeners: Array<[string, (message: unknown) => void]> = [
    [
      "osp:upstream:request",
      (message) => {
        if (!log.isLevelEnabled("debug")) return;
        const e = message as UpstreamRequest;
        log.debug(
          {
            origin: e.origin,
            method: e.method,
            status: e.status,
            outcome: e.outcome,
            error: e.errorCode,
            headersMs: round(e.headersMs),
            durationMs: round(e.durationMs),
            bytesSent: e.bytesSent,
            bytesReceived: e.bytesReceived,
          },
          "upstream request",
        );
      },
    ],
    [
      "osp:upstream:iam-token",
      (message) => {
        const e = message as IamToken;
        const facts = {
          iamUrl: e.iamUrl,
          status: e.status,
          durationMs: round(e.durationMs),
          background: e.background,
          iamError: e.iamErrorCode,
        };
        if (e.outcome === "error") {
          log.warn(
            facts,
            e.apiKeyRefused
              ? "IBM IAM refused the API key: fix the endpoint's auth.apiKey (or the upstream-credentials hook's)"
              : "IAM token fetch failed",
          );
        } else log.debug(facts, "IAM token fetched");
      },
    ],
    [
      "osp:http:rejected",
      (message) => {
        const e = message as { status: number; reason: string; method: string; remoteAddress: string };
        log.debug(
          { status: e.status, reason: e.reason, method: e.method, remote: e.remoteAddress },
          "request rejected by the HTTP layer",
        );
      },
    ],
    [
      "osp:verify:fallback",
      (message) => {
        const e = message as { error: string };
        log.warn({ err: e.error }, "verify pool hand-off failed; the signature was checked inline");
      },
    ],
    [
      "osp:http:callback-error",
      (message) => {
        const e = message as { error: unknown; callback: string };
        const err = e.error instanceof Error ? `${e.error.name}: ${e.error.message}` : errorMessage(e.error);
        log.error({ callback: e.callback, err }, "request callback threw");
      },
    ],
  ];
  for (const [name, listener] of listeners) diagnosticsChannel.subscribe(name, listener);
  return () => {
    for (const [name, listener] of listeners) diagnosticsChannel.unsubscribe(name, listener);
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
