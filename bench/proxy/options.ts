/**
 * Command-line options of the suite (bench/README.md lists them). `--quick` is the smoke mode CI runs:
 * every scenario for about a second, one round, small transfers, and no results file unless `--out` says where.
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./children.js";
import { SCENARIO_NAMES } from "./scenarios.js";

export interface Options {
  readonly quick: boolean;
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly scenarios: readonly string[];
  /** Worker counts to run: one for the suite (`--workers`), several for `--scaling 1,2,4`. */
  readonly workerCounts: readonly number[];
  readonly scaling: boolean;
  readonly originWorkers: number;
  /** wrk threads and connections for a worker count (scaling raises both with the workers). */
  readonly wrkThreads: (workers: number) => number;
  readonly connections: (workers: number) => number;
  readonly memBytes: number;
  readonly coldKeysPerRound: number;
  readonly coldWarmupKeys: number;
  /** Where osp finds the cold-path principals: its identity hook, or its config's credentials. */
  readonly coldSource: "hook" | "config";
  /** osp's `verify.mode`: inline, pool (signature and payload checks on worker threads) or auto (osp decides). */
  readonly verifyMode: "inline" | "pool" | "auto";
  /** osp's `limits.spoolTotalBytes` in MiB (0: every body streams); null: osp's default. */
  readonly spoolMiB: number | null;
  /** Scenarios that get a cost ledger (ledger.ts): one more osp run under `perf record`. */
  readonly ledger: readonly string[];
  /** Where the results file goes; null: none (`--quick` without `--out`). */
  readonly outDir: string | null;
  /** Rebuild bench/RESULTS.md from the results files after writing. */
  readonly report: boolean;
}

export const USAGE = `usage: node bench/dist/proxy/run.js [options]
  --quick               smoke mode: 1 s per run, 1 round, 64 MiB memory test, no results file
  --scenarios a,b       only these (${SCENARIO_NAMES.join(", ")})
  --workers N           osp workers and nginx proxy worker_processes (default 1)
  --scaling 1,2,4,8,16  run the scenarios (default get-1k) at each worker count; writes <date>-<commit>-scaling.json
  --rounds N            measured rounds per target (default 3)     --seconds S   per round (default 5)
  --warmup S            warm-up per target (default 2)             --origin-workers N (default cores/4, ≥ 1)
  --connections N       wrk connections (default 16; scaling: 16 × workers)
  --wrk-threads N       wrk threads (default 1; scaling: workers/2, ≤ cores/4)
  --mem-mib M           size of the memory transfers (default 1024)
  --cold-keys N         fresh access keys per cold-path round (default 50000)
  --cold-source S       hook (default: osp's identity.hook) or config (keys listed in credentials)
  --verify-mode M       osp's verify.mode: auto (default: osp decides from the cores), inline or pool
  --spool-mib N         osp's limits.spoolTotalBytes in MiB (0: every body streams; default: osp's, 8)
  --ledger a,b          scenarios with a cost ledger (default get-1k,get-1k-nolog; none; quick: none)
  --out DIR             results directory (default bench/results)
  --no-report           do not rebuild bench/RESULTS.md`;

export function parseOptions(args: readonly string[]): Options {
  const known = new Set([
    "--quick",
    "--no-report",
    "--scenarios",
    "--workers",
    "--scaling",
    "--rounds",
    "--seconds",
    "--warmup",
    "--origin-workers",
    "--connections",
    "--wrk-threads",
    "--mem-mib",
    "--cold-keys",
    "--cold-source",
    "--verify-mode",
    "--spool-mib",
    "--ledger",
    "--out",
  ]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--help" || a === "-h") throw new UsageError(USAGE);
    if (!known.has(a)) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    if (a !== "--quick" && a !== "--no-report") i++;
  }
  const value = (name: string): string | null => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? null) : null;
  };
  const count = (name: string, fallback: number): number => {
    const v = value(name);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} wants a whole number ≥ 1, got ${v}`);
    return n;
  };
  const list = (name: string): string[] | null =>
    value(name)
      ?.split(",")
      .filter((s) => s !== "") ?? null;
  const quick = args.includes("--quick");
  const cores = cpus().length;
  const scalingList = list("--scaling");
  const scaling = scalingList !== null;
  const workerCounts = scaling ? scalingList.map(Number) : [count("--workers", 1)];
  if (workerCounts.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`--scaling wants worker counts like 1,2,4, got ${value("--scaling")}`);
  const scenarios = list("--scenarios") ?? (scaling ? ["get-1k"] : [...SCENARIO_NAMES]);
  for (const s of scenarios)
    if (!SCENARIO_NAMES.includes(s))
      throw new UsageError(`unknown scenario ${s} (${SCENARIO_NAMES.join(", ")})`);
  const wrkThreads = value("--wrk-threads");
  const connections = value("--connections");
  const quarter = Math.max(1, Math.floor(cores / 4));
  return {
    quick,
    rounds: count("--rounds", quick ? 1 : 3),
    seconds: count("--seconds", quick ? 1 : 5),
    warmupSeconds: count("--warmup", quick ? 1 : 2),
    scenarios,
    workerCounts,
    scaling,
    originWorkers: count("--origin-workers", quarter),
    wrkThreads: (w) =>
      wrkThreads !== null ? count("--wrk-threads", 1) : scaling ? Math.min(quarter, Math.max(1, w >> 1)) : 1,
    connections: (w) => (connections !== null ? count("--connections", 16) : scaling ? 16 * w : 16),
    memBytes: count("--mem-mib", quick ? 64 : 1024) * 2 ** 20,
    coldKeysPerRound: count("--cold-keys", quick ? 5000 : 50_000),
    coldWarmupKeys: quick ? 500 : 2000,
    coldSource: coldSource(value("--cold-source")),
    verifyMode: verifyMode(value("--verify-mode")),
    spoolMiB: spoolMiB(value("--spool-mib")),
    ledger: ledgerList(list("--ledger"), scenarios, quick),
    outDir: value("--out") ?? (quick ? null : join(repoRoot, "bench", "results")),
    report: !args.includes("--no-report") && !quick,
  };
}

function coldSource(v: string | null): "hook" | "config" {
  if (v === null || v === "hook" || v === "config") return v ?? "hook";
  throw new UsageError(`--cold-source wants hook or config, got ${v}`);
}

function verifyMode(v: string | null): "inline" | "pool" | "auto" {
  if (v === null || v === "inline" || v === "pool" || v === "auto") return v ?? "auto";
  throw new UsageError(`--verify-mode wants inline, pool or auto, got ${v}`);
}

function ledgerList(asked: string[] | null, scenarios: readonly string[], quick: boolean): string[] {
  if (asked === null) return quick ? [] : ["get-1k", "get-1k-nolog"].filter((s) => scenarios.includes(s));
  if (asked.length === 1 && asked[0] === "none") return [];
  for (const s of asked)
    if (!scenarios.includes(s)) throw new UsageError(`--ledger: ${s} is not among the scenarios run`);
  return asked;
}

function spoolMiB(v: string | null): number | null {
  if (v === null) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--spool-mib wants a whole number ≥ 0, got ${v}`);
  return n;
}

/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
