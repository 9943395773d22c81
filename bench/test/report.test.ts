import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { renderResults } from "../proxy/report/render.js";
import { checkTargets } from "../proxy/report/targets.js";
import type { RoundFigures, SuiteResult, TargetFigures } from "../proxy/results.js";

const benchDir = mkdtempSync(join(tmpdir(), "osp-bench-report-"));
mkdirSync(join(benchDir, "results"));
after(() => rmSync(benchDir, { recursive: true, force: true }));

function target(name: "upstream" | "nginx" | "osp", rps: number, gatewayCpu: number | null): TargetFigures {
  const round: RoundFigures = {
    requests: rps * 5,
    seconds: 5,
    rps,
    mbps: (rps * 1024) / 1e6,
    p50ms: 1,
    p99ms: 2,
    cpuUs: { gateway: gatewayCpu, upstream: 10, loadGenerator: 5 },
    gatewayProcesses: gatewayCpu === null ? 0 : 1,
    primaryRssMiB: null,
    workerRssMiB: gatewayCpu === null ? [] : [50],
  };
  return {
    target: name,
    rps,
    mbps: round.mbps,
    p50ms: 1,
    p99ms: 2,
    cpuUs: round.cpuUs,
    rssPerWorkerMiB: gatewayCpu === null ? null : 50,
    primaryRssMiB: null,
    gatewayProcesses: round.gatewayProcesses,
    vsNginx: {
      rps: rps / 20000,
      mbps: rps / 20000,
      p50: 1,
      p99: 1,
      cpuGateway: gatewayCpu === null ? null : gatewayCpu / 30,
      cpuServers: 1,
      rssPerWorker: null,
    },
    rounds: [round],
  };
}

function suite(commit: string, startedAt: string, quick: boolean): SuiteResult {
  return {
    kind: "suite",
    version: 1,
    date: startedAt.slice(0, 10),
    startedAt,
    commit,
    dirty: false,
    node: "v20.20.2",
    machine: { cpuModel: "Test CPU 9000", cores: 2, memoryGiB: 8, kernel: "6.1" },
    nginx: "nginx/1.22.1",
    loadAverage: { start: [0.5, 0.4, 0.3], end: [1.5, 0.9, 0.5] },
    wrk: "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer",
    settings: {
      quick,
      rounds: 3,
      seconds: 5,
      warmupSeconds: 2,
      wrkThreads: 1,
      connections: 16,
      originWorkers: 1,
      coldKeysPerRound: 50000,
      coldSource: "hook",
    },
    scenarios: [
      {
        scenario: "get-1k",
        measures: "Per-request cost.",
        workers: 1,
        payloadBytes: 1024,
        targets: [target("upstream", 40000, null), target("nginx", 20000, 30), target("osp", 8000, 120)],
        notes: ["a note"],
      },
    ],
    memory: null,
  };
}

test("RESULTS.md shows the latest full run, names machine, Node and commit on every row, and links its chart", () => {
  const write = (name: string, r: SuiteResult) =>
    writeFileSync(join(benchDir, "results", name), JSON.stringify(r));
  write("2026-11-27-aaaaaaa.json", suite("aaaaaaa", "2026-11-27T10:00:00.000Z", false));
  write("2026-11-28-bbbbbbb.json", suite("bbbbbbb", "2026-11-28T10:00:00.000Z", false));
  write("2026-11-29-ccccccc.json", suite("ccccccc", "2026-11-29T10:00:00.000Z", true));
  const file = renderResults(benchDir);
  const md = readFileSync(file, "utf8");
  const latest = md.slice(md.indexOf("## Latest suite run"), md.indexOf("## History"));
  assert.match(latest, /commit bbbbbbb/);
  assert.doesNotMatch(latest, /ccccccc/, "a --quick run is never the latest figures");
  const rows = latest.split("\n").filter((l) => l.startsWith("| get-1k"));
  assert.equal(rows.length, 3);
  const cells = (row: string) => row.split("|").map((c) => c.trim());
  for (const row of rows)
    assert.deepEqual(cells(row).slice(-4), ["2 × Test CPU 9000", "v20.20.2", "bbbbbbb", ""]);
  assert.ok(rows.some((row) => cells(row).slice(1, 5).join(" ") === "get-1k 1 osp 8000"));
  assert.match(latest, /!\[chart\]\(results\.svg\)/);
  const history = md
    .slice(md.indexOf("## History"))
    .split("\n")
    .filter((l) => l.startsWith("| 2026-"));
  assert.deepEqual(
    history.map((l) => cells(l).slice(1, -1)),
    ["aaaaaaa", "bbbbbbb"].map((commit, i) => [
      `2026-11-2${7 + i}`,
      commit,
      "2 × Test CPU 9000",
      "v20.20.2",
      "get-1k",
      "1",
      "8000",
      "0.400",
      "4.00",
    ]),
    "the history lists every full run and leaves the quick one out",
  );
  const svg = readFileSync(join(benchDir, "results.svg"), "utf8");
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, />get-1k</);
  assert.match(svg, />×0\.400 \(8000 vs 20000\/s\)</);
  assert.match(svg, />×4\.00 \(120 vs 30\.0 µs\)</);
});

test("the targets table says which targets the run met, missed or did not measure", () => {
  const r = suite("ddddddd", "2026-11-30T10:00:00.000Z", false);
  const get = r.scenarios[0]!;
  const rss = (t: TargetFigures, mib: number): TargetFigures => ({ ...t, rssPerWorkerMiB: mib });
  const withTargets: SuiteResult = {
    ...r,
    scenarios: [
      { ...get, targets: get.targets.map((t) => (t.target === "osp" ? rss(t, 90) : t)) },
      {
        ...get,
        scenario: "cold-get-1k",
        targets: get.targets.map((t) => (t.target === "osp" ? rss(t, 150) : rss(t, 200))),
      },
    ],
  };
  const rows = new Map(checkTargets(withTargets).map((row) => [row.what, row]));
  // osp 120 µs against nginx's 30: 4×; 8,000 against 20,000 req/s: 0.4×, the bound itself.
  assert.deepEqual(rows.get("CPU per request ×nginx, get-1k"), {
    what: "CPU per request ×nginx, get-1k",
    limit: "≤ 2.8",
    measured: "4.00",
    verdict: "missed",
  });
  assert.equal(rows.get("req/s ×nginx, get-1k")?.verdict, "met");
  assert.equal(rows.get("req/s ×nginx, get-8m")?.verdict, "not measured");
  assert.equal(rows.get("access log µs per line")?.verdict, "not measured", "no ledger in this run");
  // The largest osp worker, not nginx's: cold-get-1k's 150 MiB.
  assert.deepEqual(rows.get("worker RSS MiB, every scenario"), {
    what: "worker RSS MiB, every scenario",
    limit: "≤ 128",
    measured: "150 (cold-get-1k)",
    verdict: "missed",
  });
  writeFileSync(join(benchDir, "results", "2026-11-30-ddddddd.json"), JSON.stringify(withTargets));
  const md = readFileSync(renderResults(benchDir), "utf8");
  assert.match(md, /\| CPU per request ×nginx, get-1k +\| ≤ 2\.8 +\| 4\.00 +\| missed +\|/);
});

test("the micro-benchmark section shows the run started last, not the last file name of the day", () => {
  const micro = (commit: string, startedAt: string | undefined) => ({
    kind: "micro",
    date: "2026-12-01",
    ...(startedAt === undefined ? {} : { startedAt }),
    commit,
    node: "v20.20.2",
    machine: "2 × Test CPU 9000, 8 GiB",
    rows: [{ name: `a row of ${commit}`, unit: "µs", value: 1 }],
  });
  const write = (commit: string, startedAt: string | undefined) =>
    writeFileSync(
      join(benchDir, "results", `micro-2026-12-01-${commit}.json`),
      JSON.stringify(micro(commit, startedAt)),
    );
  write("eeeeeee", undefined); // written before runs recorded their start
  write("1111111", "2026-12-01T09:00:00.000Z");
  write("2222222", "2026-12-01T08:00:00.000Z");
  const md = readFileSync(renderResults(benchDir), "utf8");
  const section = md.slice(md.indexOf("## Micro-benchmarks"));
  assert.match(section, /a row of 1111111/);
  assert.doesNotMatch(section, /a row of (eeeeeee|2222222)/);
});
