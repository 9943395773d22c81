/**
 * System calls of a gateway's processes during a round (osp made 6.1 per proxied GET where nginx made
 * 4.3 when this was written), counted by `perf stat -e raw_syscalls:sys_enter` attached to every thread of
 * the tree: a kernel counter with no ptrace stop per call, so the round runs at its usual speed (strace -c
 * does not). Where perf is missing or not permitted (perf_event_paranoid, containers) the figure is null.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";

const PERF = process.env.OSP_BENCH_PERF ?? "perf";
const EVENT = "raw_syscalls:sys_enter";

let usable: boolean | null = null;

/** Whether `perf stat` can count the event for a process of ours (checked once). */
function perfUsable(): boolean {
  if (usable !== null) return usable;
  const r = spawnSync(PERF, ["stat", "-x,", "-e", EVENT, "--", "true"], { encoding: "utf8" });
  usable = r.status === 0 && /^\d+,/m.test(r.stderr ?? "");
  return usable;
}

export interface SyscallCount {
  /** Stops counting; the system calls made since the start, or null when they could not be counted. */
  finish(): Promise<number | null>;
}

/** Starts counting the system calls of `pids` (all their threads); a no-op counter when perf is unusable. */
export function countSyscalls(pids: readonly number[]): SyscallCount {
  if (pids.length === 0 || !perfUsable()) return { finish: async () => null };
  const perf: ChildProcess = spawn(PERF, ["stat", "-x,", "-e", EVENT, "-p", pids.join(",")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  perf.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<void>((resolve) => perf.once("exit", () => resolve()));
  return {
    async finish() {
      perf.kill("SIGINT");
      await exited;
      const line = err.split("\n").find((l) => l.includes(EVENT));
      const count = Number(line?.split(",")[0]);
      return Number.isFinite(count) ? count : null;
    },
  };
}
