/**
 * `make bench-upstream-client`: osp's own HTTP/1.1 upstream client against undici (the client osp used before),
 * each in a fresh process against the same raw origin process: CPU per 1 KiB GET (16 in flight) and the peak
 * RSS of streaming 1 GiB. Rounds alternate the order; medians. Writes results/upstream-client-<date>-<commit>.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { gitCommit, machineLine, today, writeResultsFile } from "../common/run-info.js";

const here = import.meta.dirname;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SMALL_REQUESTS = Number(process.env.SMALL_REQUESTS ?? 100_000);

const origin = spawn(process.execPath, [join(here, "origin.js")], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<string>((resolve) => {
  createInterface({ input: origin.stdout }).once("line", resolve);
});
const originUrl = `http://127.0.0.1:${port}`;

interface Sample {
  impl: string;
  scenario: string;
  seconds: number;
  requests: number;
  cpuUsPerRequest: number;
  bytes: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
}

function measure(impl: string, scenario: string): Sample {
  const r = spawnSync(
    process.execPath,
    [join(here, "client.js"), impl, scenario, originUrl, String(SMALL_REQUESTS)],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`${impl} ${scenario} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const impls = ["osp", "undici"];
const rows = [];
for (const scenario of ["small", "big"]) {
  const samples = new Map<string, Sample[]>(impls.map((i) => [i, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) samples.get(impl)!.push(measure(impl, scenario));
  }
  for (const impl of impls) {
    const s = samples.get(impl)!;
    const row = {
      impl,
      scenario,
      rounds: s.length,
      requestsPerSecond: median(s.map((x) => x.requests / x.seconds)),
      mbPerSecond: median(s.map((x) => x.bytes / x.seconds / 1e6)),
      cpuUsPerRequest: median(s.map((x) => x.cpuUsPerRequest)),
      rssBeforeMiB: median(s.map((x) => x.rssBeforeMiB)),
      peakRssMiB: median(s.map((x) => x.peakRssMiB)),
    };
    rows.push(row);
    console.log(
      scenario === "small"
        ? `${scenario} ${impl.padEnd(6)} ${row.requestsPerSecond.toFixed(0)} req/s, ${row.cpuUsPerRequest.toFixed(1)} µs CPU/request`
        : `${scenario}   ${impl.padEnd(6)} ${row.mbPerSecond.toFixed(0)} MB/s, RSS ${row.rssBeforeMiB.toFixed(0)} → peak ${row.peakRssMiB.toFixed(0)} MiB`,
    );
  }
}
origin.kill();
const { commit, dirty } = gitCommit();
const file = writeResultsFile(join(here, "..", "..", "results"), `upstream-client-${today()}-${commit}`, {
  machine: machineLine(),
  node: process.version,
  commit,
  dirty,
  date: new Date().toISOString(),
  concurrency: 16,
  smallRequests: SMALL_REQUESTS,
  rows,
});
console.log(`wrote ${file}`);
