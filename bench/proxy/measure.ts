/**
 * One scenario, measured: each target answered once (checked), a warm-up per target, then rounds that
 * alternate the targets' order (so drift on a shared machine hits them alike), medians of the rounds, and
 * every figure set against nginx proxy_pass's.
 */
import { request } from "node:http";
import { join } from "node:path";
import { HOST } from "./children.js";
import { buildLedger, type Ledger, ledgerUsable, recordLedger } from "./ledger.js";
import { processTree, reapedChildrenCpuSeconds, TreeSampler, type TreeUsage } from "./proc-stats.js";
import type { RequestSet } from "./requests.js";
import {
  type CpuPerRequest,
  median,
  type Ratios,
  type RoundFigures,
  type ScenarioResult,
  type TargetFigures,
} from "./results.js";
import type { Scenario, ScenarioContext, TargetName } from "./scenarios.js";
import { countSyscalls } from "./syscalls.js";
import { runWrk, type WrkOptions, writeScript } from "./wrk.js";

/** The process trees behind a target: its gateway (none for the upstream alone) and its upstream. */
export interface TargetTrees {
  readonly gateway: number | null;
  readonly upstream: number;
}

export interface MeasureOptions {
  readonly rounds: number;
  readonly warmupSeconds: number;
  readonly wrk: WrkOptions;
  readonly workers: number;
  readonly targets: readonly TargetName[];
  readonly trees: (target: TargetName, scenario: Scenario) => TargetTrees;
  /** Scenarios that get a cost ledger: one more run of osp under perf (ledger.ts). */
  readonly ledger: readonly string[];
  readonly log: (line: string) => void;
}

/** Sends the first request of `set` with node:http; throws unless 2xx (and, for a GET, the whole object). */
export async function probe(
  port: number,
  set: RequestSet,
  payloadBytes: number,
  what: string,
): Promise<void> {
  const first = set.requests[0];
  if (first === undefined) throw new Error(`${what}: no request`);
  const headers: Record<string, string> = {};
  for (const [k, v] of first.headers) headers[k] = v;
  if (set.body !== null) headers["Content-Length"] = String(set.body.length);
  const { status, bytes, text } = await new Promise<{ status: number; bytes: number; text: string }>(
    (resolve, reject) => {
      const req = request({ host: HOST, port, method: set.method, path: first.path, headers }, (res) => {
        let bytes = 0;
        let text = "";
        res.on("data", (c: Buffer) => {
          bytes += c.length;
          if (text.length < 2000) text += c.toString("utf8", 0, 2000);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, text }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(set.body ?? undefined);
    },
  );
  const wantBytes = set.method === "GET" ? payloadBytes : null;
  if (status < 200 || status > 299 || (wantBytes !== null && bytes !== wantBytes))
    throw new Error(`${what}: ${set.method} ${first.path} answered ${status} with ${bytes} bytes\n${text}`);
}

function workersOf(usage: TreeUsage | undefined): { primary: number | null; workers: number[] } {
  if (usage === undefined) return { primary: null, workers: [] };
  const [root, ...rest] = usage.processes;
  if (rest.length === 0) return { primary: null, workers: root === undefined ? [] : [root.peakRssMiB] };
  return { primary: root?.peakRssMiB ?? null, workers: rest.map((p) => p.peakRssMiB) };
}

async function oneRun(
  scenario: Scenario,
  ctx: ScenarioContext,
  target: TargetName,
  round: number,
  seconds: number,
  o: MeasureOptions,
): Promise<RoundFigures> {
  const set = scenario.requests(target, ctx, round);
  const name = `${scenario.name}-${target}-${round < 0 ? "warmup" : `r${round + 1}`}`;
  const script = writeScript(set, o.wrk, name);
  const trees = o.trees(target, scenario);
  const roots = trees.gateway === null ? [trees.upstream] : [trees.gateway, trees.upstream];
  const sampler = new TreeSampler(roots);
  const syscalls = countSyscalls(trees.gateway === null ? [] : processTree(trees.gateway));
  const wrkCpuBefore = reapedChildrenCpuSeconds();
  let usage: TreeUsage[] = [];
  const result = await runWrk(scenario.port(target, ctx), script, { ...o.wrk, seconds }).finally(() => {
    usage = sampler.finish();
  });
  const gatewaySyscalls = await syscalls.finish();
  const wrkCpu = reapedChildrenCpuSeconds() - wrkCpuBefore;
  const gatewayUsage = trees.gateway === null ? undefined : usage[0];
  const upstreamUsage = usage[usage.length - 1];
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1e6) / Math.max(1, result.requests);
  const cpuUs: CpuPerRequest = {
    gateway: gatewayUsage === undefined ? null : perRequest(gatewayUsage.cpuSeconds),
    upstream: perRequest(upstreamUsage?.cpuSeconds ?? 0),
    loadGenerator: perRequest(wrkCpu),
  };
  const rss = workersOf(gatewayUsage);
  const figures: RoundFigures = {
    requests: result.requests,
    seconds: result.seconds,
    rps: result.rps,
    mbps: (result.rps * scenario.payloadBytes) / 1e6,
    p50ms: result.p50ms,
    p99ms: result.p99ms,
    cpuUs,
    gatewayProcesses: gatewayUsage?.processes.length ?? 0,
    gatewaySyscallsPerRequest:
      gatewaySyscalls === null ? null : gatewaySyscalls / Math.max(1, result.requests),
    primaryRssMiB: rss.primary,
    workerRssMiB: rss.workers,
  };
  if (scenario.name.startsWith("cold-") && round >= 0)
    return { ...figures, coldFraction: Math.min(1, set.requests.length / Math.max(1, result.requests)) };
  return figures;
}

/**
 * One more run of the scenario against osp, under `perf record`: the cost ledger of its CPU per request
 * (ledger.ts). It replays the last round's requests (signatures stay valid for 15 minutes). Null where
 * perf cannot sample.
 */
async function ledgerRun(
  scenario: Scenario,
  ctx: ScenarioContext,
  o: MeasureOptions,
): Promise<Ledger | null> {
  const root = o.trees("osp", scenario).gateway;
  if (root === null || !ledgerUsable()) return null;
  const pids = processTree(root);
  const set = scenario.requests("osp", ctx, Math.max(0, o.rounds - 1));
  const script = writeScript(set, o.wrk, `${scenario.name}-osp-ledger`);
  const recording = recordLedger(pids, join(o.wrk.dir, `${scenario.name}-ledger.perf.data`));
  // perf needs a moment to attach; until then requests go unsampled, which only the shares see.
  await new Promise((r) => setTimeout(r, 300));
  const sampler = new TreeSampler([root]);
  let usage: TreeUsage[] = [];
  const result = await runWrk(scenario.port("osp", ctx), script, o.wrk).finally(() => {
    usage = sampler.finish();
  });
  const samples = await recording.finish();
  if (samples === null) return null;
  const cpuSeconds = usage[0]?.cpuSeconds ?? 0;
  const ledger = buildLedger(samples, pids, {
    seconds: result.seconds,
    requests: result.requests,
    cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests),
  });
  const parts = ledger.parts.filter((p) => p.us >= 0.5).map((p) => `${p.part} ${p.us.toFixed(1)}`);
  o.log(`  ${scenario.name} osp ledger (${ledger.cpuUsPerRequest.toFixed(0)} µs/req): ${parts.join(", ")}`);
  return ledger;
}

function summarize(target: TargetName, rounds: RoundFigures[]): TargetFigures {
  const m = (f: (r: RoundFigures) => number) => median(rounds.map(f));
  const hasGateway = rounds.some((r) => r.cpuUs.gateway !== null);
  return {
    target,
    rps: m((r) => r.rps),
    mbps: m((r) => r.mbps),
    p50ms: m((r) => r.p50ms),
    p99ms: m((r) => r.p99ms),
    cpuUs: {
      gateway: hasGateway ? m((r) => r.cpuUs.gateway ?? 0) : null,
      upstream: m((r) => r.cpuUs.upstream),
      loadGenerator: m((r) => r.cpuUs.loadGenerator),
    },
    rssPerWorkerMiB: hasGateway ? m((r) => Math.max(...r.workerRssMiB)) : null,
    primaryRssMiB: rounds.some((r) => r.primaryRssMiB !== null) ? m((r) => r.primaryRssMiB ?? 0) : null,
    gatewayProcesses: Math.max(...rounds.map((r) => r.gatewayProcesses)),
    gatewaySyscallsPerRequest: rounds.every((r) => typeof r.gatewaySyscallsPerRequest === "number")
      ? m((r) => r.gatewaySyscallsPerRequest ?? 0)
      : null,
    vsNginx: null,
    rounds,
  };
}

function against(t: TargetFigures, n: TargetFigures): Ratios {
  const servers = (x: TargetFigures) => (x.cpuUs.gateway ?? 0) + x.cpuUs.upstream;
  return {
    rps: t.rps / n.rps,
    mbps: t.mbps / n.mbps,
    p50: t.p50ms / n.p50ms,
    p99: t.p99ms / n.p99ms,
    cpuGateway:
      t.cpuUs.gateway === null || n.cpuUs.gateway === null ? null : t.cpuUs.gateway / n.cpuUs.gateway,
    cpuServers: servers(t) / servers(n),
    rssPerWorker:
      t.rssPerWorkerMiB === null || n.rssPerWorkerMiB === null ? null : t.rssPerWorkerMiB / n.rssPerWorkerMiB,
  };
}

export async function measureScenario(
  scenario: Scenario,
  ctx: ScenarioContext,
  o: MeasureOptions,
): Promise<ScenarioResult> {
  for (const t of o.targets)
    await probe(
      scenario.port(t, ctx),
      scenario.requests(t, ctx, -1),
      scenario.payloadBytes,
      `${scenario.name} ${t}`,
    );
  for (const t of o.targets) await oneRun(scenario, ctx, t, -1, o.warmupSeconds, o);
  const samples = new Map<TargetName, RoundFigures[]>(o.targets.map((t) => [t, []]));
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? o.targets : [...o.targets].reverse();
    for (const t of order) {
      const r = await oneRun(scenario, ctx, t, round, o.wrk.seconds, o);
      samples.get(t)?.push(r);
      const cpu = r.cpuUs.gateway ?? r.cpuUs.upstream;
      const sys =
        r.gatewaySyscallsPerRequest == null ? "" : `, ${r.gatewaySyscallsPerRequest.toFixed(2)} syscalls/req`;
      o.log(
        `  ${scenario.name} ${t.padEnd(8)} round ${round + 1}: ${r.rps.toFixed(0)} req/s, ${cpu.toFixed(0)} µs CPU/req${sys}`,
      );
    }
  }
  const ledger = o.ledger.includes(scenario.name) ? await ledgerRun(scenario, ctx, o) : null;
  const figures = o.targets.map((t) => summarize(t, samples.get(t) ?? []));
  const nginx = figures.find((f) => f.target === "nginx");
  const targets = figures.map((f) => (nginx === undefined ? f : { ...f, vsNginx: against(f, nginx) }));
  const notes: string[] = [];
  const cold = samples.get("osp")?.map((r) => r.coldFraction ?? 1);
  if (scenario.name.startsWith("cold-") && cold !== undefined)
    notes.push(
      `${ctx.coldKeysPerRound} fresh keys per round (${ctx.coldSource}); share of osp requests signed by a first-used key: ${cold.map((c) => c.toFixed(2)).join(", ")}`,
    );
  if (scenario.name.startsWith("iam-"))
    notes.push("The bearer upstream is one Node process (testkit): it bounds every target of this scenario.");
  return {
    scenario: scenario.name,
    measures: scenario.measures,
    workers: o.workers,
    wrkThreads: o.wrk.threads,
    connections: o.wrk.connections,
    payloadBytes: scenario.payloadBytes,
    targets,
    notes,
    ...(o.ledger.includes(scenario.name) ? { ledger } : {}),
  };
}
