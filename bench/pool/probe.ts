/**
 * What one timed run of bench/pool records: wall time, CPU of the main thread alone (the event loop the
 * gateway must keep free), CPU of the whole process (pool threads included: what a hand-off really costs),
 * event-loop delay (`monitorEventLoopDelay`) and event-loop utilisation.
 *
 * Main-thread CPU comes from /proc/self/task/<pid>/schedstat (Node 20 has no `process.threadCpuUsage`); the
 * kernel brings a running thread's figure up to date at each tick, so a run must last well over a tick
 * (the scenarios last ≥ 200 ms). Whole-process CPU comes from `process.cpuUsage` (getrusage: every thread,
 * exact). Where /proc is missing, the main thread's figure falls back to the whole process's.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

export interface Sample {
  readonly wallMs: number;
  readonly mainCpuMs: number;
  readonly totalCpuMs: number;
  readonly eldP50Ms: number;
  readonly eldP99Ms: number;
  readonly eldMaxMs: number;
  /** Fraction of the wall time the event loop was busy. */
  readonly elu: number;
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

function mainThreadCpuMs(): number | null {
  try {
    return Number(readFileSync(SCHEDSTAT, "latin1").split(" ")[0]) / 1e6;
  } catch {
    return null;
  }
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs `work` once under every probe. */
export async function probe(work: () => Promise<void>): Promise<Sample> {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadCpuMs();
  const total0 = processCpuMs();
  const start = performance.now();
  eld.enable();
  await work();
  eld.disable();
  const wallMs = performance.now() - start;
  const total1 = processCpuMs();
  const main1 = mainThreadCpuMs();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const totalCpuMs = total1 - total0;
  return {
    wallMs,
    mainCpuMs: main0 === null || main1 === null ? totalCpuMs : main1 - main0,
    totalCpuMs,
    eldP50Ms: eld.count > 0 ? eld.percentile(50) / 1e6 : 0,
    eldP99Ms: eld.count > 0 ? eld.percentile(99) / 1e6 : 0,
    eldMaxMs: eld.count > 0 ? eld.max / 1e6 : 0,
    elu,
  };
}

/** The median of each field over `samples` (each field on its own, as the micro bench does). */
export function medianSample(samples: readonly Sample[]): Sample {
  const median = (pick: (s: Sample) => number): number => {
    const values = samples.map(pick).sort((a, b) => a - b);
    return values[values.length >> 1] ?? 0;
  };
  return {
    wallMs: median((s) => s.wallMs),
    mainCpuMs: median((s) => s.mainCpuMs),
    totalCpuMs: median((s) => s.totalCpuMs),
    eldP50Ms: median((s) => s.eldP50Ms),
    eldP99Ms: median((s) => s.eldP99Ms),
    eldMaxMs: median((s) => s.eldMaxMs),
    elu: median((s) => s.elu),
  };
}
