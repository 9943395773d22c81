/**
 * The options of a verify pool: the two config keys (`verify.mode`, `verify.threads`) plus tuning knobs whose
 * defaults come from bench/pool (see README.md); tests and the bench set them, the config does not.
 */
import { availableParallelism } from "node:os";

/** `inline`: every check on the event loop. `pool`: every check on a pool thread. `auto`: see README.md. */
export type VerifyMode = "inline" | "pool" | "auto";

export interface VerifyOptions {
  readonly mode: VerifyMode;
  /** Pool threads of this process; 0 = decide from the CPU count and `processes` (`resolveThreadCount`). */
  readonly threads: number;
  /** Processes sharing this machine's CPUs (the cluster's workers); default 1. Only read when `threads` is 0. */
  readonly processes?: number;
  /** auto: smallest declared body (bytes) whose signed hashing is sent to the pool. */
  readonly autoMinBodyBytes?: number;
  /** Body bytes gathered before one hand-off to a thread (one task). */
  readonly batchBytes?: number;
  /** Body bytes of one request in flight to a thread before `write` asks the caller to pause. */
  readonly windowBytes?: number;
  /** Tasks each thread's queue may hold (piscina `maxQueue`); past it a new body stays inline. */
  readonly maxQueue?: number;
}

/** The options with every default filled in, validated. */
export interface ResolvedVerifyOptions {
  readonly mode: VerifyMode;
  readonly threads: number;
  readonly autoMinBodyBytes: number;
  readonly batchBytes: number;
  readonly windowBytes: number;
  readonly maxQueue: number;
}

/** Defaults chosen from bench/pool on the 2-core VM (README.md "Figures"). */
const VERIFY_DEFAULTS = {
  /**
   * auto: 1 MiB bodies gained uneven event-loop time from a thread for ~3× the CPU; from 8 MiB the relief held
   * (70–80 % of the verification off the loop) as the fixed cost of a body's first and last hand-off faded.
   */
  autoMinBodyBytes: 8 * 1024 * 1024,
  /** One hand-off per MiB: 1 MiB batches cost the event loop and the process less than 64–512 KiB ones. */
  batchBytes: 1024 * 1024,
  /** Two batches: one being hashed on the thread while the next gathers (a 4 MiB window did no better). */
  windowBytes: 2 * 1024 * 1024,
  /**
   * piscina's `maxQueue: 'auto'` rejected bursts in early measurements. A body holds at most
   * windowBytes / batchBytes + 1 queue entries (reserved when it starts), so 1024 is room for 341 bodies in
   * flight per thread; past that new bodies stay inline.
   */
  maxQueue: 1024,
} as const;

/**
 * Pool threads for `threads: 0`: the CPUs no event loop uses, shared between the processes —
 * floor((cpus − processes) / processes). With one process per CPU (the cluster's `workers: auto`) that is 0:
 * auto mode then runs everything inline, since a thread would only take CPU from another worker's event loop
 * at ~1.5× the CPU per byte (README.md). Pool mode, asked for explicitly, gets at least 1.
 */
export function resolveThreadCount(
  mode: VerifyMode,
  threads: number,
  processes = 1,
  cpus = availableParallelism(),
): number {
  if (mode === "inline") return 0;
  if (threads > 0) return threads;
  const spare = Math.floor(Math.max(0, cpus - processes) / Math.max(1, processes));
  return mode === "pool" ? Math.max(1, spare) : spare;
}

/** Fills in defaults; throws RangeError on a value no pool can run with (a caller bug: the config checked). */
export function resolveVerifyOptions(options: VerifyOptions): ResolvedVerifyOptions {
  const { mode } = options;
  if (mode !== "inline" && mode !== "pool" && mode !== "auto") {
    throw new RangeError(`verify mode must be inline, pool or auto, got ${String(mode)}`);
  }
  const threads = positiveInteger("threads", options.threads, 0);
  const processes = positiveInteger("processes", options.processes ?? 1, 1);
  const batchBytes = positiveInteger("batchBytes", options.batchBytes ?? VERIFY_DEFAULTS.batchBytes, 1);
  const windowBytes = positiveInteger("windowBytes", options.windowBytes ?? VERIFY_DEFAULTS.windowBytes, 1);
  return {
    mode,
    threads: resolveThreadCount(mode, threads, processes),
    autoMinBodyBytes: positiveInteger(
      "autoMinBodyBytes",
      options.autoMinBodyBytes ?? VERIFY_DEFAULTS.autoMinBodyBytes,
      0,
    ),
    batchBytes,
    windowBytes: Math.max(windowBytes, batchBytes),
    maxQueue: positiveInteger("maxQueue", options.maxQueue ?? VERIFY_DEFAULTS.maxQueue, 1),
  };
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`verify ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}
