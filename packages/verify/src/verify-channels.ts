import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events of the verify pool (the names are the contract @osp/metrics subscribes to);
 * the server turns them into `osp_verify_pool_queue_length` and `osp_verify_pool_wait_seconds`. Events are
 * built only when a subscriber exists, so an unobserved pool pays one property read per task.
 */

/** Published once per pooled task, when a thread has taken it. */
export const VERIFY_POOL_CHANNEL = "osp:verify:pool";

export interface VerifyPoolEvent {
  /** Tasks waiting in every thread's queue (not yet taken by a thread) when this one was submitted. */
  readonly queueLength: number;
  /** From submission until a thread started this task, in seconds. */
  readonly waitSeconds: number;
}

export const verifyPoolChannel = diagnosticsChannel.channel(VERIFY_POOL_CHANNEL);
