/**
 * What the primary reports about its workers (the admin server's readiness, `osp status`): plain data,
 * below the pool, its handles and slots, so that they all import it and none imports the others back.
 */
import type { RedisState } from "./ipc-messages.js";

export interface WorkerStatus {
  readonly slot: number;
  readonly pid: number;
  readonly state: "starting" | "listening" | "draining";
  readonly generation: number;
  readonly redis: { readonly state: RedisState; readonly lastError: string | null } | null;
}

export interface PoolStatus {
  readonly expected: number;
  readonly listening: number;
  /** Slots given up after a crash loop. */
  readonly failed: number;
  readonly port: number | null;
  readonly workers: readonly WorkerStatus[];
}
