/**
 * The shape of a results file (`bench/results/<date>-<commit>.json`), the figures derived from rounds, and
 * the writer. RESULTS.md is rendered from these files only (report/render.ts), never edited by hand.
 */
import { cpus, release, totalmem } from "node:os";
import { writeResultsFile } from "../common/run-info.js";
import type { Ledger } from "./ledger.js";
import type { TargetName } from "./scenarios.js";

/** CPU µs per request of each process tree (utime + stime from /proc, summed over the round ÷ requests). */
export interface CpuPerRequest {
  /** osp (primary + workers) or nginx proxy (master + workers); null for the upstream alone. */
  readonly gateway: number | null;
  /** The origin nginx, or the bearer upstream (Node) in the IAM scenario. */
  readonly upstream: number;
  /** wrk. */
  readonly loadGenerator: number;
}

export interface RoundFigures {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Payload MB/s (10^6 bytes): req/s × the scenario's object bytes. */
  readonly mbps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly cpuUs: CpuPerRequest;
  /** Processes in the gateway tree at the end of the round (primary + workers), 0 without a gateway. */
  readonly gatewayProcesses: number;
  /**
   * System calls of the gateway's processes (every thread) ÷ requests, counted by perf (syscalls.ts); null
   * without a gateway or without a usable perf, absent in files written before it was counted.
   */
  readonly gatewaySyscallsPerRequest?: number | null;
  readonly primaryRssMiB: number | null;
  /** Peak RSS of each worker, sampled every 200 ms (a single-process gateway is its own worker). */
  readonly workerRssMiB: readonly number[];
  /** Cold path only: the share of requests signed by a key used for the first time (keys ÷ requests, ≤ 1). */
  readonly coldFraction?: number;
}

export interface Ratios {
  readonly rps: number;
  readonly mbps: number;
  readonly p50: number;
  readonly p99: number;
  /** Gateway CPU per request against nginx proxy's (null for the upstream target). */
  readonly cpuGateway: number | null;
  /** (gateway + upstream) CPU per request against nginx proxy + its upstream. */
  readonly cpuServers: number;
  readonly rssPerWorker: number | null;
}

export interface TargetFigures {
  readonly target: TargetName;
  /** Medians over the rounds. */
  readonly rps: number;
  readonly mbps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly cpuUs: CpuPerRequest;
  /** Median over rounds of the largest worker peak RSS; null without a gateway. */
  readonly rssPerWorkerMiB: number | null;
  readonly primaryRssMiB: number | null;
  readonly gatewayProcesses: number;
  /** Median over rounds of the gateway's system calls per request (see RoundFigures); null or absent: none. */
  readonly gatewaySyscallsPerRequest?: number | null;
  /** Against nginx proxy_pass in the same scenario (1 for nginx itself). */
  readonly vsNginx: Ratios | null;
  readonly rounds: readonly RoundFigures[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly measures: string;
  /** osp's `workers` and nginx proxy's `worker_processes` in this run. */
  readonly workers: number;
  /** wrk's threads and connections in this scenario (scaling raises them with the workers). */
  readonly wrkThreads?: number;
  readonly connections?: number;
  readonly payloadBytes: number;
  readonly targets: readonly TargetFigures[];
  readonly notes: readonly string[];
  /**
   * osp's CPU per request part by part, from one more run under perf (ledger.ts); null where perf could
   * not sample; absent where no ledger was asked for (and in files written before the ledger existed).
   */
  readonly ledger?: Ledger | null;
}

export interface MemoryRow {
  /**
   * `up-chunked`: aws-chunked with a CRC32 trailer; `up-signed`: every chunk signed (both absent in files
   * written before they were measured).
   */
  readonly direction: "down" | "up" | "up-chunked" | "up-signed";
  readonly bytes: number;
  readonly seconds: number;
  readonly mbps: number;
  readonly rssBeforeMiB: number;
  /** Max over osp's processes of VmHWM after the transfer (reset before it where permitted). */
  readonly peakRssMiB: number;
  /** Max over osp's processes of VmRSS polled every 50 ms. */
  readonly peakSampledMiB: number;
  readonly hwmReset: boolean;
}

export interface MemoryResult {
  readonly scenario: "memory-1g";
  readonly workers: number;
  readonly targetMiB: number;
  readonly idleRssMiB: number;
  readonly rows: readonly MemoryRow[];
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
}

export interface SuiteResult {
  readonly kind: "suite" | "scaling";
  readonly version: 1;
  readonly date: string;
  readonly startedAt: string;
  readonly commit: string;
  /** The working tree had uncommitted changes: the figures are of a state no commit holds. */
  readonly dirty: boolean;
  readonly node: string;
  readonly machine: Machine;
  readonly nginx: string;
  readonly wrk: string;
  /**
   * The machine's load average (1, 5, 15 min) when the run started and ended: the bench's own processes
   * count in the end figure; a load well above that means other work shared the cores.
   */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly settings: {
    readonly quick: boolean;
    readonly rounds: number;
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly wrkThreads: number;
    readonly connections: number;
    readonly originWorkers: number;
    readonly coldKeysPerRound: number;
    readonly coldSource: "hook" | "config";
    /** Absent in files written before the option existed (osp's default then: auto). */
    readonly verifyMode?: "inline" | "pool" | "auto";
    /** osp's limits.spoolTotalBytes in MiB; null or absent: osp's default of that commit. */
    readonly spoolMiB?: number | null;
    /**
     * osp's logging outside the `-nolog` scenarios: `default` (access log on, level info, to a file). Absent
     * in files written before it was recorded, whose osp ran quiet (no access log, level warn).
     */
    readonly ospLogging?: "default";
    /** Scenarios with a cost ledger; osp then ran with the ledger's Node flags (absent before it existed). */
    readonly ledger?: readonly string[];
  };
  readonly scenarios: readonly ScenarioResult[];
  readonly memory: MemoryResult | null;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

export function machineInfo(): Machine {
  const list = cpus();
  return {
    cpuModel: (list[0]?.model ?? "unknown cpu").replace(/\s+/g, " ").trim(),
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
  };
}

export { gitCommit } from "../common/run-info.js";

/** Writes `<dir>/<date>-<commit>[-scaling][-N].json` (a new file, never over an earlier run's). */
export function writeResults(dir: string, result: SuiteResult): string {
  const base = `${result.date}-${result.commit}${result.kind === "scaling" ? "-scaling" : ""}`;
  return writeResultsFile(dir, base, result, true);
}
