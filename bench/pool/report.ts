/** bench/pool's output: the table on stdout and `bench/results/pool-<date>-<commit>.json`, never by hand. */
import { loadavg } from "node:os";
import { gitCommit, machineLine, today, writeResultsFile } from "../common/run-info.js";

export interface Row {
  scenario: string;
  config: string;
  concurrency: number;
  unit: "op" | "MiB";
  /** ops/s or MiB/s of payload, wall clock. */
  rate: number;
  /** CPU of the event-loop thread per op or MiB. */
  mainCpuUsPerUnit: number;
  /** CPU of every thread of the process (pool threads included) per op or MiB. */
  totalCpuUsPerUnit: number;
  eldP50Ms: number;
  eldP99Ms: number;
  eldMaxMs: number;
  /** Event-loop utilisation: share of the wall time the loop was busy. */
  elu: number;
}

/**
 * Prints the table; unless `outDir` is null, writes the results file and returns its path. `loadBefore`: the
 * 1-minute load average when the run began (a busy shared machine shows there).
 */
export function report(
  rows: readonly Row[],
  rounds: number,
  outDir: string | null,
  loadBefore: number,
): string | null {
  const { commit } = gitCommit();
  const machine = machineLine();
  const date = today();
  const out = process.stdout;
  const load = { before: loadBefore, after: loadavg()[0] ?? 0 };
  out.write(`machine: ${machine}\nnode: ${process.version}\ncommit: ${commit}\nrounds: ${rounds}\n`);
  out.write(`load average (1 min): ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after\n\n`);
  const header = [
    "scenario",
    "config",
    "conc",
    "rate",
    "main CPU",
    "total CPU",
    "ELD p50",
    "ELD p99",
    "ELD max",
    "ELU",
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.config,
    String(r.concurrency),
    `${r.rate.toFixed(r.unit === "op" ? 0 : 1)} ${r.unit}/s`,
    `${r.mainCpuUsPerUnit.toFixed(1)} µs/${r.unit}`,
    `${r.totalCpuUsPerUnit.toFixed(1)} µs/${r.unit}`,
    `${r.eldP50Ms.toFixed(2)} ms`,
    `${r.eldP99Ms.toFixed(2)} ms`,
    `${r.eldMaxMs.toFixed(2)} ms`,
    r.elu.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const line of [header, ...lines])
    out.write(`${line.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}\n`);
  if (outDir === null) return null;
  const doc = { kind: "pool", date, commit, node: process.version, machine, rounds, loadAverage: load, rows };
  const file = writeResultsFile(outDir, `pool-${date}-${commit}`, doc);
  out.write(`\nwrote ${file}\n`);
  return file;
}
