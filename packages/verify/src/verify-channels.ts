import diagnosticsChannel from "node:diagnostics_channel";

/**
 * `diagnostics_channel` events of the verify pool (the names are the contract @osp/metrics and @osp/server
 * subscribe to): the server turns them into `osp_verify_pool_queue_length` and `osp_verify_pool_wait_seconds`,
 * and logs each fallback. Events are built only when a subscriber exists, so an unobserved pool pays one
 * property read per task.
 */

/** Published once per pooled task, when a thread has taken it. */
export const VERIFY_POOL_CHANNEL = "osp:verify:pool";

export interface VerifyPoolEvent {
  /** Tasks waiting in every thread's queue (not yet taken by a thread) when this one was submitted. */
  readonly queueLength: number;
  /** From submission until a thread started this task, in seconds. */
  readonly waitSeconds: number;
}

/** Published when a signature check sent to a thread failed there (thread died, pool closing) and was redone inline. */
export const VERIFY_FALLBACK_CHANNEL = "osp:verify:fallback";

export interface VerifyFallbackEvent {
  /** The message of the pool's failure. */
  readonly error: string;
}

export const verifyPoolChannel = diagnosticsChannel.channel(VERIFY_POOL_CHANNEL);
export const verifyFallbackChannel = diagnosticsChannel.channel(VERIFY_FALLBACK_CHANNEL);
