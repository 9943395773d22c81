/**
 * Rebuilds bench/RESULTS.md and its charts (bench/results.svg, bench/results-scaling.svg) from the results
 * files in bench/results/, never by hand: `node bench/dist/proxy/report/render.js`. The suite runs it after
 * writing a results file.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { LEDGER_PARTS, type Ledger, PART_MEANING } from "../ledger.js";
import type { ScenarioResult, SuiteResult } from "../results.js";
import { scalingChart, suiteChart } from "./charts.js";
import { checkTargets } from "./targets.js";
import { COLUMNS, commitOf, machineOf, num, resultRows } from "./text-table.js";

interface Legacy {
  kind: "proxy";
  date: string;
  commit: string;
  node: string;
  machine: string;
  ratios: Array<{ size: string; rps: number }>;
  rows: Array<{ size: string; target: string; rps: number }>;
}
interface Micro {
  kind: "micro";
  date: string;
  /** Absent in files written before it was recorded. */
  startedAt?: string;
  commit: string;
  node: string;
  machine: string;
  rows: Array<{ name: string; unit: string; value: number }>;
}
type AnyResult = (SuiteResult | Legacy | Micro) & { file: string };

/** A Markdown table with every column padded to its widest cell, as biome formats Markdown tables. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const length = (cell: string) => [...cell].length;
  const widths = header.map((h, i) => Math.max(3, length(h), ...rows.map((r) => length(r[i] ?? ""))));
  const pad = (cell: string, i: number) => cell + " ".repeat((widths[i] ?? 0) - length(cell));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Every results file, oldest first (by start time where recorded, else by date and name). */
function load(dir: string): AnyResult[] {
  const when = (r: AnyResult) => ("startedAt" in r && r.startedAt !== undefined ? r.startedAt : r.date);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      ...(JSON.parse(readFileSync(join(dir, file), "utf8")) as SuiteResult | Legacy | Micro),
      file,
    }))
    .sort((a, b) => when(a).localeCompare(when(b)));
}

const isSuite = (r: AnyResult): r is SuiteResult & { file: string } =>
  r.kind === "suite" || r.kind === "scaling";
const byTime = (a: SuiteResult, b: SuiteResult) => a.startedAt.localeCompare(b.startedAt);

/** "0.52 at start, 2.10 at end" (older files have no load average). */
function loadOf(r: SuiteResult): string {
  const l = r.loadAverage as SuiteResult["loadAverage"] | undefined;
  return l === undefined ? "not recorded" : `${num(l.start[0])} at start, ${num(l.end[0])} at end`;
}

function suiteSection(r: SuiteResult, heading: string, chart: string): string {
  const named = (cells: string[]) => [...cells, machineOf(r), r.node, commitOf(r)];
  const s = r.settings;
  const out = [
    `## ${heading}`,
    "",
    `${r.date}, ${machineOf(r)} (${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}), node ${r.node}, commit ${commitOf(r)}, ` +
      `${r.nginx}, ${r.wrk.split(" [")[0]}; wrk -t${s.wrkThreads} -c${s.connections}, ${s.rounds} round(s) × ${s.seconds} s ` +
      `after ${s.warmupSeconds} s warm-up per target, medians; origin nginx ${s.originWorkers} worker(s); ` +
      `load average (1 min) ${loadOf(r)}. Source: \`results/${(r as AnyResult).file}\`.`,
    "",
    `![chart](${chart})`,
    "",
    table([...COLUMNS, "machine", "node", "commit"], resultRows(r).map(named)),
    "",
  ];
  const notes = r.scenarios.flatMap((x) => x.notes.map((n) => `- ${x.scenario}: ${n}`));
  if (notes.length > 0) out.push(...notes, "");
  out.push(...ledgerSection(r));
  if (r.memory !== null) {
    const m = r.memory;
    out.push(
      `Memory (${m.scenario}): osp RSS idle ${num(m.idleRssMiB)} MiB, target peak < ${m.targetMiB} MiB.`,
      "",
      table(
        [
          "scenario",
          "direction",
          "bytes",
          "MB/s",
          "RSS before MiB",
          "peak RSS MiB",
          "peak − before MiB",
          "sampled peak MiB",
          "machine",
          "node",
          "commit",
        ],
        m.rows.map((row) =>
          named([
            m.scenario,
            row.direction,
            String(row.bytes),
            num(row.mbps),
            num(row.rssBeforeMiB),
            num(row.peakRssMiB),
            num(row.peakRssMiB - row.rssBeforeMiB),
            num(row.peakSampledMiB),
          ]),
        ),
      ),
      "",
    );
  }
  if (r.kind === "suite") out.push(...targetsSection(r));
  return out.join("\n");
}

/** The cost-per-request targets against this run (targets.ts); docs/architecture.md says why any is missed. */
function targetsSection(r: SuiteResult): string[] {
  const rows = checkTargets(r).map((t) => [t.what, t.limit, t.measured, t.verdict]);
  return [
    "Targets (one worker against one nginx worker, this run; where one is missed, [docs/architecture.md](../docs/architecture.md#budgets)",
    '"Budgets" says what the ledger shows remains and why):',
    "",
    table(["target", "bound", "measured", "verdict"], rows),
    "",
  ];
}

/**
 * The cost ledger: osp's CPU µs per request part by part, one column per scenario that has
 * one, the nginx proxy's CPU per request of the same scenario below it for scale.
 */
function ledgerSection(r: SuiteResult): string[] {
  const withLedger = r.scenarios.filter(
    (x): x is ScenarioResult & { ledger: Ledger } => x.ledger !== undefined && x.ledger !== null,
  );
  if (withLedger.length === 0) return [];
  const head = withLedger.map((x) => `${x.scenario} (${x.workers}w) µs/req`);
  const rows = LEDGER_PARTS.map((part) => [
    part,
    ...withLedger.map((x) => {
      const e = x.ledger.parts.find((p) => p.part === part);
      return e === undefined
        ? "–"
        : `${num(e.us)} (${((100 * e.us) / x.ledger.cpuUsPerRequest).toFixed(0)} %)`;
    }),
    PART_MEANING[part],
  ]);
  rows.push([
    "total, ledger run",
    ...withLedger.map((x) => num(x.ledger.cpuUsPerRequest)),
    "osp's CPU µs/req in the run perf sampled",
  ]);
  rows.push([
    "nginx proxy, rounds",
    ...withLedger.map((x) => num(x.targets.find((t) => t.target === "nginx")?.cpuUs.gateway)),
    "nginx proxy_pass's CPU µs/req (median of the rounds), for scale",
  ]);
  const kernel = withLedger.map(
    (x) =>
      `- ${x.scenario}: kernel time by the part that made the system call: ${Object.entries(x.ledger.kernelBy)
        .filter(([, us]) => (us ?? 0) >= 0.5)
        .map(([p, us]) => `${p} ${num(us)}`)
        .join(", ")}; osp functions with most samples: ${x.ledger.topFunctions
        .slice(0, 8)
        .map((f) => `${f.name.split(" ")[0]} ${num(f.us)}`)
        .join(", ")}.`,
  );
  return [
    "Cost ledger: osp's CPU per request by part, from one more run of the scenario with `perf record -e cpu-clock -g`",
    "on osp's processes (bench/proxy/ledger.ts); each sample counts for the nearest osp function on its stack.",
    "",
    table(["part", ...head, "what it holds"], rows),
    "",
    ...kernel,
    "",
  ];
}

/** Per scenario and worker count: req/s of nginx and osp, each against its own 1-worker figure. */
function scalingTable(r: SuiteResult): string {
  const rows: string[][] = [];
  for (const name of new Set(r.scenarios.map((s) => s.scenario))) {
    const runs = r.scenarios.filter((s) => s.scenario === name);
    const rps = (s: (typeof runs)[number] | undefined, t: string) =>
      s?.targets.find((x) => x.target === t)?.rps;
    const first = runs.find((s) => s.workers === 1);
    for (const s of runs) {
      const [n, o] = [rps(s, "nginx"), rps(s, "osp")];
      const [n1, o1] = [rps(first, "nginx"), rps(first, "osp")];
      rows.push([
        name,
        String(s.workers),
        `${s.wrkThreads ?? "?"}/${s.connections ?? "?"}`,
        num(n),
        n === undefined || n1 === undefined ? "–" : num(n / n1),
        num(o),
        o === undefined || o1 === undefined ? "–" : num(o / o1),
        o === undefined || n === undefined ? "–" : num(o / n),
      ]);
    }
  }
  return [
    "Scaling factors (req/s at N workers ÷ req/s at 1 worker, same run):",
    "",
    table(
      [
        "scenario",
        "workers",
        "wrk threads/conns",
        "nginx req/s",
        "nginx ×1w",
        "osp req/s",
        "osp ×1w",
        "osp ÷ nginx",
      ],
      rows,
    ),
    "",
  ].join("\n");
}

function historySection(all: readonly AnyResult[]): string {
  const rows: string[][] = [];
  for (const r of all) {
    if (r.kind === "suite" && !r.settings.quick) {
      for (const s of r.scenarios) {
        const osp = s.targets.find((t) => t.target === "osp");
        rows.push([
          r.date,
          commitOf(r),
          machineOf(r),
          r.node,
          s.scenario,
          String(s.workers),
          num(osp?.rps),
          num(osp?.vsNginx?.rps),
          num(osp?.vsNginx?.cpuGateway),
        ]);
      }
    } else if (r.kind === "proxy") {
      for (const q of r.ratios) {
        const osp = r.rows.find((x) => x.size === q.size && x.target === "osp");
        rows.push([
          r.date,
          r.commit,
          r.machine,
          r.node,
          `get-${q.size}`,
          "1",
          num(osp?.rps),
          num(q.rps),
          "–",
        ]);
      }
    }
  }
  return [
    "## History (osp against nginx proxy_pass, every run)",
    "",
    table(
      ["date", "commit", "machine", "node", "scenario", "workers", "osp req/s", "req/s ×nginx", "CPU ×nginx"],
      rows,
    ),
    "",
  ].join("\n");
}

function microSection(all: readonly AnyResult[]): string {
  const micro = all.filter((r): r is Micro & { file: string } => r.kind === "micro").at(-1);
  if (micro === undefined) return "";
  return [
    "## Micro-benchmarks (latest, `make bench-micro`)",
    "",
    table(
      ["benchmark", "value", "unit", "machine", "node", "commit"],
      micro.rows.map((x) => [x.name, num(x.value), x.unit, micro.machine, micro.node, micro.commit]),
    ),
    "",
  ].join("\n");
}

/** Writes RESULTS.md (and the charts) into `benchDir` from `benchDir/results`; returns the file written. */
export function renderResults(benchDir: string): string {
  const all = load(join(benchDir, "results"));
  const suites = all.filter(isSuite);
  const suite = suites
    .filter((r) => r.kind === "suite" && !r.settings.quick)
    .sort(byTime)
    .at(-1);
  const scaling = suites
    .filter((r) => r.kind === "scaling" && !r.settings.quick)
    .sort(byTime)
    .at(-1);
  const parts = [
    "# Benchmark results",
    "",
    "Generated by `node bench/dist/proxy/report/render.js` from `bench/results/*.json` (written by `make bench`);",
    "do not edit by hand. What each scenario measures and how to reproduce: [README.md](README.md).",
    "CPU µs/req is utime + stime from /proc of every process of the tree, summed over a round ÷ its requests;",
    '"gateway" is osp (primary + workers) or the nginx proxy (master + workers), "upstream" the origin behind it.',
    "",
  ];
  if (suite !== undefined) {
    writeFileSync(join(benchDir, "results.svg"), suiteChart(suite));
    parts.push(suiteSection(suite, "Latest suite run", "results.svg"));
    parts.push("Scenarios:", "", ...suite.scenarios.map((s) => `- **${s.scenario}**: ${s.measures}`), "");
  } else rmSync(join(benchDir, "results.svg"), { force: true });
  if (scaling !== undefined) {
    writeFileSync(join(benchDir, "results-scaling.svg"), scalingChart(scaling));
    parts.push(
      suiteSection(scaling, "Scaling (latest `--scaling` run)", "results-scaling.svg"),
      scalingTable(scaling),
    );
  } else rmSync(join(benchDir, "results-scaling.svg"), { force: true });
  parts.push(historySection(all), microSection(all));
  const file = join(benchDir, "RESULTS.md");
  writeFileSync(file, `${parts.join("\n").trimEnd()}\n`);
  return file;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.stdout.write(`wrote ${renderResults(join(import.meta.dirname, "..", "..", ".."))}\n`);
