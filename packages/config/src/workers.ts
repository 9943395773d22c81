/** `workers`: how many worker processes osp runs, one reading for the primary and the workers alike. */
import { availableParallelism } from "node:os";
import type { Config } from "./compile-config.js";

/** `workers` as a number: `auto` is the CPUs this process may use (`os.availableParallelism()`). */
export function resolveWorkerCount(config: Pick<Config, "workers">): number {
  return config.workers === "auto" ? availableParallelism() : config.workers;
}
