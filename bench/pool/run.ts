/**
 * bench/pool: the verify pool's modes side by side on signed requests.
 * - small requests: the signature with a cached key, and with a key missed every time (derivation too);
 * - signed bodies of 1, 8 and 64 MiB, aws-chunked (64 KiB chunks) and hex, one at a time and several at
 *   once, streamed in 64 KiB pieces; the 64 MiB chunked body also paced at a client link's speed (event-loop
 *   delay at a sustainable rate), with a second process uploading the same way ("contended": no idle core, as
 *   a 2-worker cluster on 2 cores), and in pool mode's batch sizes;
 * in inline, pool and auto mode at 1 and 2 threads, plus "source only" (the upload loop with no checks).
 * Each row: rate, main-thread and whole-process CPU per unit, event-loop delay and utilisation; medians of
 * rounds in which every config runs once in turn (a neighbour's burst hits them alike).
 * Writes bench/results/pool-<date>-<commit>.json (not with --quick).
 *
 * Usage: node bench/dist/pool/run.js [--rounds N] [--quick] [--out DIR]
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { loadavg } from "node:os";
import { join } from "node:path";
import { SigningKeyCache } from "@osp/sigv4";
import type { VerifyPool } from "@osp/verify";
import { BATCH_CONFIGS, type Config, createPool, MAIN_CONFIGS, MIB, SOURCE_ONLY } from "./configs.js";
import { medianSample, probe, type Sample } from "./probe.js";
import { type Row, report } from "./report.js";
import {
  missRequests,
  type SignedBody,
  type SignedSmallRequest,
  signedBodies,
  smallRequest,
  upload,
} from "./workload.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(option("--rounds") ?? (quick ? 1 : 5));
const scale = quick ? 0.1 : 1;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface Scenario {
  readonly name: string;
  readonly concurrency: number;
  readonly unit: "op" | "MiB";
  readonly units: number;
  readonly configs: readonly Config[];
  /** Body name a neighbour process uploads meanwhile, `null` for none. */
  readonly neighbour: string | null;
  readonly run: (pool: VerifyPool) => Promise<void>;
}

/** `total` verifications, `concurrency` in flight at a time, cycling through `requests`. */
function verifications(requests: readonly SignedSmallRequest[], total: number, concurrency: number) {
  return async (pool: VerifyPool): Promise<void> => {
    const cache = new SigningKeyCache();
    let next = 0;
    for (let done = 0; done < total; done += concurrency) {
      const wave = [];
      for (let i = 0; i < concurrency; i++) {
        const { auth, secret } = requests[next++ % requests.length]!;
        wave.push(pool.verifyRequest(auth, secret, cache));
      }
      for (const verdict of await Promise.all(wave)) if (verdict.failure !== null) throw verdict.failure;
    }
  };
}

/** `total` uploads of `body`, `concurrency` at a time, each paced at `bytesPerSecond` (0: unpaced). */
function uploads(body: SignedBody, total: number, concurrency: number, bytesPerSecond = 0) {
  return async (pool: VerifyPool): Promise<void> => {
    for (let done = 0; done < total; done += concurrency) {
      const wave = [];
      for (let i = 0; i < Math.min(concurrency, total - done); i++)
        wave.push(upload(pool, body, bytesPerSecond));
      await Promise.all(wave);
    }
  };
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const header = (name: string, requests: SignedSmallRequest[], total: number, concurrency: number): void => {
    const units = Math.max(concurrency, Math.round(total * scale));
    const run = verifications(requests, units, concurrency);
    list.push({ name, concurrency, unit: "op", units, configs: MAIN_CONFIGS, neighbour: null, run });
  };
  header("signature, cached key", [smallRequest()], 20_000, 1);
  header("signature, cached key", [smallRequest()], 20_000, 64);
  header("signature + derivation (key miss)", missRequests(Math.round(4000 * scale)), 20_000, 64);
  const bodyConfigs = [SOURCE_ONLY, ...MAIN_CONFIGS];
  for (const body of signedBodies([MIB, 8 * MIB, 64 * MIB])) {
    const large = body.payloadBytes === 64 * MIB;
    // ≥ 256 MiB per run: long enough for the per-tick CPU figures (probe.ts).
    const perRun = (256 * MIB) / body.payloadBytes;
    const shapes: ReadonlyArray<readonly [number, number]> = large
      ? [
          [4, 1],
          [8, 4],
        ]
      : [
          [perRun, 1],
          [perRun, 8],
        ];
    for (const [total, concurrency] of shapes) {
      const count = Math.max(concurrency, Math.round(total * scale));
      const sweep = large && body.spec.kind === "chunked";
      list.push({
        name: `upload ${body.name}`,
        concurrency,
        unit: "MiB",
        units: (count * body.payloadBytes) / MIB,
        configs: sweep ? [...bodyConfigs, ...BATCH_CONFIGS] : bodyConfigs,
        neighbour: null,
        run: uploads(body, count, concurrency),
      });
    }
    if (large && body.spec.kind === "chunked") {
      // Four clients on 512 Mbit/s links each: the event loop's load and delay at a rate it can sustain.
      list.push({
        name: `upload ${body.name} at 4 × 64 MiB/s`,
        concurrency: 4,
        unit: "MiB",
        units: (4 * body.payloadBytes) / MIB,
        configs: bodyConfigs,
        neighbour: null,
        run: uploads(body, 4, 4, 64 * MIB),
      });
      list.push({
        name: `upload ${body.name}, contended`,
        concurrency: 2,
        unit: "MiB",
        units: (4 * body.payloadBytes) / MIB,
        configs: bodyConfigs,
        neighbour: body.name,
        run: uploads(body, 4, 2),
      });
    }
  }
  return list;
}

/** Runs `work` while a neighbour process uploads `bodyName` through a pool of the same config. */
async function withNeighbour<T>(config: Config, bodyName: string, work: () => Promise<T>): Promise<T> {
  const child = fork(join(import.meta.dirname, "neighbour.js"), [config.name, bodyName], { stdio: "ignore" });
  try {
    await once(child, "message");
    return await work();
  } finally {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const list = scenarios();
  const configs = [...new Set(list.flatMap((s) => s.configs))];
  const pools = new Map(configs.map((c) => [c, createPool(c)]));
  const samples = new Map<string, Sample[]>();
  const key = (s: Scenario, c: Config): string => `${s.name}|${s.concurrency}|${c.name}`;
  // Warm-up: every path once (threads started, code optimised); contended rows warm up with the others.
  for (const s of list) if (s.neighbour === null) for (const c of s.configs) await s.run(pools.get(c)!);
  for (let round = 0; round < rounds; round++) {
    log(`round ${round + 1}/${rounds}`);
    for (const s of list) {
      for (const c of s.configs) {
        const pool = pools.get(c)!;
        const measure = (): Promise<Sample> => probe(() => s.run(pool));
        const sample = s.neighbour === null ? await measure() : await withNeighbour(c, s.neighbour, measure);
        samples.set(key(s, c), [...(samples.get(key(s, c)) ?? []), sample]);
      }
    }
  }
  await Promise.all([...pools.values()].map((p) => p.close()));
  const rows: Row[] = [];
  for (const s of list) {
    for (const c of s.configs) {
      const m = medianSample(samples.get(key(s, c)) ?? []);
      rows.push({
        scenario: s.name,
        config: c.name,
        concurrency: s.concurrency,
        unit: s.unit,
        rate: s.units / (m.wallMs / 1000),
        mainCpuUsPerUnit: (m.mainCpuMs * 1000) / s.units,
        totalCpuUsPerUnit: (m.totalCpuMs * 1000) / s.units,
        eldP50Ms: m.eldP50Ms,
        eldP99Ms: m.eldP99Ms,
        eldMaxMs: m.eldMaxMs,
        elu: m.elu,
      });
    }
  }
  const outDir = quick ? null : (option("--out") ?? join(import.meta.dirname, "..", "..", "results"));
  report(rows, rounds, outDir, loadBefore);
}

await main();
