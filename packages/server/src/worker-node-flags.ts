/**
 * The Node flags a worker starts with (docs/operations.md "Memory"): the primary's own, so an operator's
 * `node --heap-growing-percent=25 … serve` reaches every worker; `--expose-gc`, which lets the HTTP front
 * collect request-body copies it has sent on (packages/http/src/body-copies.ts); and a young generation of
 * `WORKER_SEMI_SPACE_MIB` semi-spaces unless the operator chose a size, on the command line or in
 * NODE_OPTIONS. V8's default on 64-bit machines grows each of its two semi-spaces to 16 MiB under osp's
 * allocation rate; 8 MiB gave 3–5 MiB less RSS a worker under small GETs and 20–27 under the cold-key load
 * in `bench/proxy`, with no measurable CPU cost.
 */

/** MiB of each of the young generation's two semi-spaces, V8's `--max-semi-space-size`. */
export const WORKER_SEMI_SPACE_MIB = 8;

export function workerExecArgv(
  primaryExecArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const flags = [...primaryExecArgv, "--expose-gc"];
  const operatorFlags = [...primaryExecArgv, ...(nodeOptions ?? "").split(/\s+/)];
  if (!operatorFlags.some(setsSemiSpace)) flags.push(`--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`);
  return flags;
}

/** `--max-semi-space-size`, `--min-semi-space-size` and their underscore spellings, with or without `=`. */
function setsSemiSpace(flag: string): boolean {
  const name = flag.split("=")[0]?.replaceAll("_", "-");
  return name === "--max-semi-space-size" || name === "--min-semi-space-size";
}
