/**
 * CPU time and memory of process trees, read from /proc (Linux): CPU per request is the figure that varies
 * least between rounds on a shared machine (measured here: ~9 % between rounds against ~18 % for req/s).
 * A tree is a root pid and its descendants (osp's primary and its workers, nginx's master and its workers);
 * piscina threads are threads of a worker, so their CPU counts in that worker's.
 */
import { execSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const CLOCK_TICKS = (() => {
  try {
    return Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  ppid: number;
  /** utime + stime, and the same for reaped children (cutime + cstime), in clock ticks. */
  ticks: number;
  childTicks: number;
}

function readStat(pid: number | "self"): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // exited meanwhile
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const n = (i: number) => Number(f[i - 3] ?? 0);
  return { ppid: n(4), ticks: n(14) + n(15), childTicks: n(16) + n(17) };
}

/** The root and every descendant alive now, the root first. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st === null) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() ?? 0;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds used so far by each pid of the tree (pid → seconds). */
export function treeCpuSeconds(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const st = readStat(pid);
    if (st !== null) out.set(pid, st.ticks / CLOCK_TICKS);
  }
  return out;
}

/**
 * CPU seconds this process's reaped children used so far: the CPU of a child that ran and exited (wrk) is
 * the growth of this between before it started and after it was reaped.
 */
export function reapedChildrenCpuSeconds(): number {
  return (readStat("self")?.childTicks ?? 0) / CLOCK_TICKS;
}

export interface MemStatus {
  rssKiB: number;
  /** VmHWM: the peak RSS since start or since the last `resetPeakRss`. */
  hwmKiB: number;
}

export function memStatus(pid: number): MemStatus | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (k: string) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? Number.NaN);
    return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** What one tree used during a round: CPU seconds per process (root first) and peak sampled RSS. */
export interface TreeUsage {
  /** One entry per process seen at the end of the round, root first. */
  processes: Array<{ pid: number; cpuSeconds: number; peakRssMiB: number }>;
  cpuSeconds: number;
}

/**
 * Samples trees while a round runs: CPU at start and end, RSS every `intervalMs` (the max is kept). The
 * tree is listed again at the end, so a worker started during the round counts from zero; one that exited
 * during it is lost (its CPU with it), which the caller sees as a changed process count.
 */
export class TreeSampler {
  readonly #start = new Map<number, Map<number, number>>();
  readonly #peakKiB = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #roots: readonly number[];

  constructor(roots: readonly number[], intervalMs = 200) {
    this.#roots = roots;
    // The trees are listed once here and once at the end: scanning /proc on every sample would cost the
    // machine the bench measures more than reading a few status files does.
    for (const root of roots) this.#start.set(root, treeCpuSeconds(processTree(root)));
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    for (const tree of this.#start.values())
      for (const pid of tree.keys()) {
        const rss = memStatus(pid)?.rssKiB ?? 0;
        this.#peakKiB.set(pid, Math.max(this.#peakKiB.get(pid) ?? 0, rss));
      }
  }

  /** Stops sampling; one usage per root, in the order given. */
  finish(): TreeUsage[] {
    clearInterval(this.#timer);
    this.#sample();
    return this.#roots.map((root) => {
      const before = this.#start.get(root) ?? new Map<number, number>();
      const now = treeCpuSeconds(processTree(root));
      const processes = [...now].map(([pid, cpu]) => ({
        pid,
        cpuSeconds: cpu - (before.get(pid) ?? 0),
        peakRssMiB: (this.#peakKiB.get(pid) ?? 0) / 1024,
      }));
      return { processes, cpuSeconds: processes.reduce((sum, p) => sum + p.cpuSeconds, 0) };
    });
  }
}
