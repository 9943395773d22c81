/**
 * When to start a worker again after it died: exponential backoff (100 ms doubling to 10 s) so a worker
 * that dies at once does not spin the CPU, and a crash-loop guard: past `maxCrashes` crashes within
 * `windowMs`, stop restarting that worker (the primary logs it and /readyz says degraded).
 */
export interface RestartPolicyOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxCrashes: number;
  readonly windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  maxCrashes: 5,
  windowMs: 60_000,
};

export class RestartPolicy {
  readonly #options: RestartPolicyOptions;
  /** Crash times (ms) within the window, oldest first. */
  readonly #crashes: number[];

  constructor(options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {
    this.#options = options;
    this.#crashes = [];
  }

  /**
   * Records a crash at `nowMs` and returns how long to wait before starting the worker again, or `null`
   * when it crashed more than `maxCrashes` times within `windowMs`: give up. Crashes older than the window
   * are forgotten, so a worker that ran a while starts again from the initial delay.
   */
  crashed(nowMs: number): number | null {
    const since = nowMs - this.#options.windowMs;
    while (this.#crashes.length > 0 && this.#crashes[0]! <= since) this.#crashes.shift();
    this.#crashes.push(nowMs);
    if (this.#crashes.length > this.#options.maxCrashes) return null;
    const delay = this.#options.initialDelayMs * 2 ** (this.#crashes.length - 1);
    return Math.min(delay, this.#options.maxDelayMs);
  }

  /** Crashes counted within the window (for log lines). */
  get recentCrashes(): number {
    return this.#crashes.length;
  }
}
