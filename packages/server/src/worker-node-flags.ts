/**
 * The Node flags a worker starts with (docs/operations.md "Memory"): the primary's own, so an operator's
 * `node --heap-growing-percent=25 … serve` reaches every worker; `--expose-gc`, which lets the HTTP front
 * collect request-body copies it has sent on (packages/http/src/body-copies.ts); and, unless the operator
 * chose them on the command line or in NODE_OPTIONS, osp's sizes for V8's two generations:
 *
 * - the young generation: `WORKER_SEMI_SPACE_MIB` semi-spaces. V8's default on 64-bit machines grows each of
 *   its two semi-spaces to 16 MiB under osp's allocation rate; 8 MiB gave 3–5 MiB less RSS a worker under
 *   small GETs and 20–27 under the cold-key load in `bench/proxy`, with no measurable CPU cost.
 * - the old generation's limit (`workerOldSpaceMib`). Besides the limit itself, V8 derives from it how far
 *   the old generation may grow past its live data before a full collection: up to 4× with the 4 GiB
 *   default of a large machine, 1.6× at 1 GiB. Under the cold-key load, where the L1's evictions keep
 *   turning old entries into garbage, 1 GiB held workers at 136–148 MiB against 170–206 by default, at the
 *   same CPU per request.
 */

/** MiB of each of the young generation's two semi-spaces, V8's `--max-semi-space-size`. */
export const WORKER_SEMI_SPACE_MIB = 8;
/** The least old-generation limit a worker gets, V8's `--max-old-space-size` in MiB. */
export const WORKER_OLD_SPACE_MIB = 1024;

/**
 * The old-generation limit for a worker whose L1 holds up to `l1MaxBytes`: 1 GiB, or four times the L1's
 * bound when that is more (the L1's estimate is the heap it holds, and V8 keeps garbage beside it).
 */
export function workerOldSpaceMib(l1MaxBytes: number): number {
  return Math.max(WORKER_OLD_SPACE_MIB, Math.ceil((4 * l1MaxBytes) / 2 ** 20));
}

export function workerExecArgv(
  primaryExecArgv: readonly string[],
  nodeOptions: string | undefined,
  l1MaxBytes: number,
): string[] {
  const flags = [...primaryExecArgv, "--expose-gc"];
  const operatorFlags = [...primaryExecArgv, ...(nodeOptions ?? "").split(/\s+/)];
  if (!operatorFlags.some((f) => sets(f, SEMI_SPACE_FLAGS)))
    flags.push(`--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`);
  if (!operatorFlags.some((f) => sets(f, OLD_SPACE_FLAGS)))
    flags.push(`--max-old-space-size=${workerOldSpaceMib(l1MaxBytes)}`);
  return flags;
}

const SEMI_SPACE_FLAGS = ["--max-semi-space-size", "--min-semi-space-size"];
/** `--max-heap-size` sets both generations' limits. */
const OLD_SPACE_FLAGS = ["--max-old-space-size", "--max-heap-size"];

/** Whether `flag` is one of `names`, in its dash or underscore spelling, with or without `=`. */
function sets(flag: string, names: readonly string[]): boolean {
  const name = flag.split("=")[0]?.replaceAll("_", "-") ?? "";
  return names.includes(name);
}
