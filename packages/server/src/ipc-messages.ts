/**
 * The messages between the primary and its workers (node:cluster IPC, JSON). The config travels as the
 * YAML text the primary validated, never as a file name: every worker applies exactly what was checked,
 * even if the file changes on disk in between. `${ENV}` references are resolved again in the worker
 * against the same environment (inherited from the primary), so secrets interpolated from the environment
 * never cross the IPC channel.
 */
import type { LogLevel } from "@osp/log";
import type { MetricsSnapshot } from "@osp/metrics";

export interface ConfigPayload {
  /** The YAML text the primary compiled without a problem. */
  readonly text: string;
  /** Where it came from (the file name), for messages and /readyz. */
  readonly source: string;
  /** Increases with every config the primary accepted. */
  readonly generation: number;
}

export type ToWorker =
  | {
      readonly type: "start";
      /** Its position (0…workers-1), kept by the worker that replaces it: for log lines. */
      readonly slot: number;
      readonly config: ConfigPayload;
      /** OSP_LOG_LEVEL from the CLI; `null` = the config's `logging.level`. */
      readonly logLevel: LogLevel | null;
      /** The port the first worker got when `listen.port` is 0 (all workers share it); `null` otherwise. */
      readonly port: number | null;
    }
  | { readonly type: "reload"; readonly config: ConfigPayload }
  | { readonly type: "drain"; readonly deadlineMs: number }
  | { readonly type: "collect"; readonly id: number };

export type RedisState = "none" | "connecting" | "up" | "down";

export type ToPrimary =
  | { readonly type: "hello" }
  | { readonly type: "listening"; readonly port: number; readonly generation: number }
  | { readonly type: "start-failed"; readonly message: string }
  | { readonly type: "reloaded"; readonly generation: number; readonly error: string | null }
  | { readonly type: "redis"; readonly state: RedisState; readonly lastError: string | null }
  | {
      readonly type: "metrics";
      readonly id: number;
      readonly metrics: MetricsSnapshot;
      /** Requests this worker finished (the sum of its `osp_requests_total`). */
      readonly requests: number;
      readonly inFlight: number;
    }
  /** Sent right before a drained worker exits: its last counters, kept by the primary. */
  | { readonly type: "final"; readonly metrics: MetricsSnapshot };

/** True for a message of ours (cluster also delivers its own internal messages to `message` listeners). */
export function isMessage<T extends { type: string }>(value: unknown): value is T {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"
  );
}
