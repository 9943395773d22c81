/**
 * A worker position (0…workers-1): the process serving for it changes on restarts and rolling replacements,
 * and its restart policy (backoff, crash-loop guard) goes with the position, not the process. `Handle` is
 * the process's handle (worker-handle.ts), a parameter so that this file does not import it back.
 */
import { RestartPolicy, type RestartPolicyOptions } from "./restart-policy.js";

export class WorkerSlot<Handle> {
  readonly index: number;
  readonly policy: RestartPolicy;
  /** The process that counts for readiness; `null` while none (backoff, given up). */
  current: Handle | null;
  /** Given up after a crash loop. */
  failed: boolean;
  /** Dropped by a reload that lowered `workers`. */
  removed: boolean;
  #timer: NodeJS.Timeout | null;

  constructor(index: number, policy: RestartPolicyOptions) {
    this.index = index;
    this.policy = new RestartPolicy(policy);
    this.current = null;
    this.failed = false;
    this.removed = false;
    this.#timer = null;
  }

  adopt(handle: Handle): void {
    this.cancelRestart();
    this.current = handle;
    this.failed = false;
  }

  restartAfter(delayMs: number, start: () => void): void {
    this.cancelRestart();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      start();
    }, delayMs);
  }

  cancelRestart(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
