/**
 * The cost-per-request targets osp is held to (one worker against one nginx worker, same run, defaults:
 * access log on), checked against a suite run for RESULTS.md. Where one is missed, docs/architecture.md
 * "Budgets" says what the ledger shows remains and why.
 */
import type { ScenarioResult, SuiteResult, TargetFigures } from "../results.js";

/** RSS a worker may reach in any scenario, MiB. */
export const WORKER_RSS_TARGET_MIB = 128;

interface Target {
  readonly what: string;
  /** `at most` / `at least` the bound. */
  readonly bound: "≤" | "≥";
  readonly limit: number;
  /** The figure and where it came from; null when the run did not measure it. */
  readonly measure: (r: SuiteResult) => Measured | null;
}

/** A figure, and which scenario gave it where the target spans several. */
interface Measured {
  readonly value: number;
  readonly where?: string;
}

export interface TargetRow {
  readonly what: string;
  readonly limit: string;
  readonly measured: string;
  /** "met", "missed" or "not measured". */
  readonly verdict: string;
}

function ospIn(r: SuiteResult, scenario: string): TargetFigures | undefined {
  return r.scenarios
    .find((s) => s.scenario === scenario && s.workers === 1)
    ?.targets.find((t) => t.target === "osp");
}

/** A ratio against nginx of osp's figures in one scenario. */
function ratio(scenario: string, pick: (t: TargetFigures) => number | null | undefined) {
  return (r: SuiteResult) => {
    const osp = ospIn(r, scenario);
    const value = osp === undefined ? null : pick(osp);
    return value === null || value === undefined ? null : { value };
  };
}

/** A part of the get-1k cost ledger, µs per request. */
function ledgerPart(part: string) {
  return (r: SuiteResult) => {
    const us = r.scenarios
      .find((s) => s.scenario === "get-1k" && s.workers === 1)
      ?.ledger?.parts.find((p) => p.part === part)?.us;
    return us === undefined ? null : { value: us };
  };
}

/** The largest worker RSS over every scenario's osp and the memory transfers. */
function largestRss(r: SuiteResult): Measured | null {
  const figures: Measured[] = [];
  for (const s of r.scenarios as readonly ScenarioResult[]) {
    for (const t of s.targets)
      if (t.target !== "nginx" && t.target !== "upstream" && t.rssPerWorkerMiB !== null)
        figures.push({ value: t.rssPerWorkerMiB, where: s.scenario });
  }
  for (const row of r.memory?.rows ?? [])
    figures.push({ value: row.peakRssMiB, where: `memory-1g ${row.direction}` });
  if (figures.length === 0) return null;
  return figures.reduce((a, b) => (b.value > a.value ? b : a));
}

export const TARGETS: readonly Target[] = [
  {
    what: "CPU per request ×nginx, get-1k",
    bound: "≤",
    limit: 2.8,
    measure: ratio("get-1k", (t) => t.vsNginx?.cpuGateway),
  },
  { what: "req/s ×nginx, get-1k", bound: "≥", limit: 0.4, measure: ratio("get-1k", (t) => t.vsNginx?.rps) },
  { what: "p99 ×nginx, get-1k", bound: "≤", limit: 3, measure: ratio("get-1k", (t) => t.vsNginx?.p99) },
  { what: "req/s ×nginx, get-8m", bound: "≥", limit: 1, measure: ratio("get-8m", (t) => t.vsNginx?.rps) },
  { what: "req/s ×nginx, put-1m", bound: "≥", limit: 0.8, measure: ratio("put-1m", (t) => t.vsNginx?.rps) },
  {
    what: "req/s ×nginx, chunked-put-1m",
    bound: "≥",
    limit: 0.8,
    measure: ratio("chunked-put-1m", (t) => t.vsNginx?.rps),
  },
  { what: "access log µs per line", bound: "≤", limit: 5, measure: ledgerPart("access log") },
  { what: "metrics µs per request", bound: "≤", limit: 2, measure: ledgerPart("metrics") },
  { what: "worker RSS MiB, every scenario", bound: "≤", limit: WORKER_RSS_TARGET_MIB, measure: largestRss },
];

const format = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** Each target with the run's figure and whether it is met. */
export function checkTargets(r: SuiteResult): TargetRow[] {
  return TARGETS.map((t) => {
    const m = t.measure(r);
    const limit = `${t.bound} ${t.limit}`;
    if (m === null) return { what: t.what, limit, measured: "–", verdict: "not measured" };
    const met = t.bound === "≤" ? m.value <= t.limit : m.value >= t.limit;
    return {
      what: t.what,
      limit,
      measured: m.where === undefined ? format(m.value) : `${format(m.value)} (${m.where})`,
      verdict: met ? "met" : "missed",
    };
  });
}
