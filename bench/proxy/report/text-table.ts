/**
 * The figures of one results file as rows of cells: printed as a text table at the end of a run, and as
 * Markdown in RESULTS.md. One definition of the columns, so both say the same thing.
 */
import type { SuiteResult, TargetFigures } from "../results.js";

export const COLUMNS = [
  "scenario",
  "workers",
  "target",
  "req/s",
  "MB/s",
  "p50 ms",
  "p99 ms",
  "CPU µs/req gateway",
  "CPU µs/req upstream",
  "syscalls/req gateway",
  "RSS/worker MiB",
  "req/s ×nginx",
  "CPU ×nginx",
] as const;

/** "2 × Intel(R) Xeon(R) Processor": how every row names its machine. */
export const machineOf = (r: SuiteResult) => `${r.machine.cores} × ${r.machine.cpuModel}`;
/** The commit, marked when the tree had uncommitted changes. */
export const commitOf = (r: { commit: string; dirty?: boolean }) =>
  `${r.commit}${r.dirty === true ? " (dirty)" : ""}`;

const fixed = (n: number | null | undefined, digits: number) =>
  n === null || n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);

/** Significant figures without scientific notation: 34779 → "34779", 1.234 → "1.23". */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  return n.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
}

export function targetCells(scenario: string, workers: number, t: TargetFigures): string[] {
  return [
    scenario,
    String(workers),
    t.target,
    fixed(t.rps, 0),
    num(t.mbps),
    fixed(t.p50ms, 3),
    fixed(t.p99ms, 3),
    num(t.cpuUs.gateway),
    num(t.cpuUs.upstream),
    num(t.gatewaySyscallsPerRequest),
    num(t.rssPerWorkerMiB),
    fixed(t.vsNginx?.rps, 2),
    fixed(t.vsNginx?.cpuGateway, 2),
  ];
}

export function resultRows(r: SuiteResult): string[][] {
  return r.scenarios.flatMap((s) => s.targets.map((t) => targetCells(s.scenario, s.workers, t)));
}

/** A plain text table (left-aligned names, right-aligned figures) with the memory rows after it. */
export function formatTable(r: SuiteResult): string {
  const rows = [COLUMNS.map((c) => c as string), ...resultRows(r)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) =>
    row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
  );
  const m = r.memory;
  if (m !== null) {
    lines.push("", `osp memory (target < ${m.targetMiB} MiB), RSS idle ${num(m.idleRssMiB)} MiB:`);
    for (const row of m.rows)
      lines.push(
        `  ${row.direction.padEnd(10)} ${String(row.bytes).padStart(11)} B  ${num(row.mbps).padStart(6)} MB/s  ` +
          `peak RSS ${num(row.peakRssMiB)} MiB (VmHWM${row.hwmReset ? ", reset before" : ", since start"}; sampled ${num(row.peakSampledMiB)} MiB)`,
      );
  }
  for (const s of r.scenarios) for (const note of s.notes) lines.push(`${s.scenario}: ${note}`);
  return lines.join("\n");
}
