/**
 * `make bench-proxy` (and `make bench`): the benchmark suite, end to end on one machine.
 * Starts an origin nginx (static objects, WebDAV PUT), the bearer upstream of the IAM scenario (testkit, its
 * own process), osp (`osp serve`, `workers: N`) and nginx `proxy_pass` with as many workers; runs every
 * scenario against the upstream alone, nginx and osp with wrk (warm-up, then rounds alternating the
 * targets, medians), measures osp's peak RSS streaming 1 GiB, writes `bench/results/<date>-<commit>.json`
 * and rebuilds bench/RESULTS.md from every results file. `--scaling 1,2,4,8,16` repeats the scenarios
 * (default get-1k) at each worker count. `--quick` is the CI smoke mode. Options: bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { killAll, repoRoot } from "./children.js";
import { removePerfMaps } from "./ledger.js";
import { type MeasureOptions, measureScenario } from "./measure.js";
import { memoryTransfer } from "./memory.js";
import { NGINX, nginxHasDav, nginxVersion } from "./nginx.js";
import { type Options, parseOptions, UsageError } from "./options.js";
import { memStatus, processTree } from "./proc-stats.js";
import { formatTable } from "./report/text-table.js";
import {
  gitCommit,
  type MemoryResult,
  machineInfo,
  type ScenarioResult,
  type SuiteResult,
  writeResults,
} from "./results.js";
import { isQuiet, MEMORY_SCENARIO, SCENARIOS, type ScenarioContext, TARGETS } from "./scenarios.js";
import { type Base, type Gateways, startBase, startGateways } from "./stack.js";
import { WRK } from "./wrk.js";

const log = (line: string) => process.stderr.write(`${line}\n`);
const fail = (message: string) => {
  log(message);
  killAll();
  process.exit(1);
};

/** Waits (up to 20 s) for each osp's cluster to have its workers; a single process also passes. */
async function settle(g: Gateways): Promise<void> {
  const want = g.workers > 1 ? g.workers + 1 : 1;
  for (const osp of [g.osp, g.quietOsp?.child ?? null]) {
    if (osp === null) continue;
    const deadline = Date.now() + 20_000;
    while (processTree(osp.pid).length < want && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const seen = processTree(osp.pid).length;
    if (seen < want)
      log(`note: ${osp.name} runs ${seen} process(es) for workers: ${g.workers} (no cluster yet?)`);
  }
}

async function memoryScenario(o: Options, g: Gateways): Promise<MemoryResult> {
  const idle = Math.max(...processTree(g.osp.pid).map((p) => memStatus(p)?.rssKiB ?? 0)) / 1024;
  const rows = [];
  for (const direction of ["down", "up", "up-chunked", "up-signed"] as const) {
    const row = await memoryTransfer(direction, g.ospPort, g.osp.pid, o.memBytes);
    log(
      `  ${MEMORY_SCENARIO} ${direction}: ${row.bytes} B at ${row.mbps.toFixed(0)} MB/s, peak RSS ${row.peakRssMiB.toFixed(1)} MiB`,
    );
    rows.push(row);
  }
  return { scenario: MEMORY_SCENARIO, workers: g.workers, targetMiB: 128, idleRssMiB: idle, rows };
}

async function runAt(
  o: Options,
  base: Base,
  workers: number,
): Promise<{ scenarios: ScenarioResult[]; memory: MemoryResult | null }> {
  log(`\n== workers ${workers}: osp and nginx proxy`);
  const g = await startGateways(base, o, workers, fail);
  try {
    await settle(g);
    // First, on a fresh osp: the peak is then the streaming's, not what earlier scenarios left behind.
    const memory = o.scenarios.includes(MEMORY_SCENARIO) ? await memoryScenario(o, g) : null;
    const ctx: ScenarioContext = {
      ports: { upstream: base.originPort, nginx: g.proxyPort, osp: g.ospPort },
      bearer: base.bearer === null ? null : { port: base.bearer.port, token: base.bearer.token },
      putBody: base.putBody,
      coldWarmupKeys: o.coldWarmupKeys,
      coldKeysPerRound: o.coldKeysPerRound,
      coldSource: o.coldSource,
      quietOspPort: g.quietOsp?.port ?? null,
    };
    const measure: MeasureOptions = {
      rounds: o.rounds,
      warmupSeconds: o.warmupSeconds,
      wrk: {
        threads: o.wrkThreads(workers),
        connections: o.connections(workers),
        seconds: o.seconds,
        dir: base.dir,
      },
      workers,
      targets: TARGETS,
      trees: (target, scenario) => ({
        gateway:
          target === "osp"
            ? isQuiet(scenario) && g.quietOsp !== null
              ? g.quietOsp.child.pid
              : g.osp.pid
            : target === "nginx"
              ? g.proxy.pid
              : null,
        upstream:
          scenario.name.startsWith("iam-") && base.bearer !== null ? base.bearer.child.pid : base.origin.pid,
      }),
      log,
      ledger: o.ledger,
    };
    const scenarios: ScenarioResult[] = [];
    for (const s of SCENARIOS.filter((x) => o.scenarios.includes(x.name))) {
      log(`${s.name}: ${s.measures}`);
      scenarios.push(await measureScenario(s, ctx, measure));
    }
    return { scenarios, memory };
  } finally {
    await g.close();
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log(err.message);
    return 2;
  }
  for (const [what, path] of [
    ["nginx", NGINX],
    ["wrk", WRK],
  ] as const)
    if (!existsSync(path)) {
      log(`${what} is missing (${path}): apt-get install -y nginx-light wrk`);
      return 3;
    }
  if (!nginxHasDav())
    log("note: this nginx has no dav module; the PUT scenarios will fail against the origin");
  const { commit, dirty } = gitCommit(repoRoot);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  if ((loadAtStart[0] ?? 0) > machineInfo().cores / 2)
    log(`note: load average ${loadAtStart[0]?.toFixed(2)} at start: other work shares the cores (recorded)`);
  const machine = machineInfo();
  // `wrk -v` prints its version and usage, and exits 1.
  const wrkVersion = spawnSync(WRK, ["-v"], { encoding: "utf8" }).stdout.split("\n")[0]?.trim() ?? "wrk";
  log(
    `${machine.cores} × ${machine.cpuModel}, node ${process.version}, commit ${commit}${dirty ? " (dirty)" : ""}`,
  );
  log(
    `${o.rounds} round(s) × ${o.seconds} s, warm-up ${o.warmupSeconds} s, scenarios: ${o.scenarios.join(", ")}`,
  );

  const base = await startBase(o, fail);
  const scenarios: ScenarioResult[] = [];
  let memory: MemoryResult | null = null;
  try {
    for (const workers of o.workerCounts) {
      const r = await runAt(o, base, workers);
      scenarios.push(...r.scenarios);
      memory ??= r.memory;
    }
  } finally {
    await base.close();
  }
  const result: SuiteResult = {
    kind: o.scaling ? "scaling" : "suite",
    version: 1,
    date: startedAt.slice(0, 10),
    startedAt,
    commit,
    dirty,
    node: process.version,
    machine,
    nginx: nginxVersion(),
    wrk: wrkVersion,
    loadAverage: { start: loadAtStart, end: loadavg() },
    settings: {
      quick: o.quick,
      rounds: o.rounds,
      seconds: o.seconds,
      warmupSeconds: o.warmupSeconds,
      wrkThreads: o.wrkThreads(o.workerCounts[0] ?? 1),
      connections: o.connections(o.workerCounts[0] ?? 1),
      originWorkers: o.originWorkers,
      coldKeysPerRound: o.coldKeysPerRound,
      coldSource: o.coldSource,
      verifyMode: o.verifyMode,
      spoolMiB: o.spoolMiB,
      ospLogging: "default",
      ledger: o.ledger,
    },
    scenarios,
    memory,
  };
  process.stdout.write(`\n${formatTable(result)}\n`);
  if (o.outDir !== null) {
    const file = writeResults(o.outDir, result);
    log(`wrote ${file}`);
    if (o.report) {
      const { renderResults } = await import("./report/render.js");
      log(`wrote ${renderResults(join(repoRoot, "bench"))}`);
    }
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
} finally {
  killAll();
  removePerfMaps();
}
