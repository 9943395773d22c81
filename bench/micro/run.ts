/**
 * `make bench-micro`: the SigV4 micro-benchmarks (verification, key derivation, signing, aws-chunked
 * decoding, checksums), the per-request bookkeeping (access log line, metrics), the CORS step and the caches
 * once full. `--only verify,chunked,bookkeeping,cors,caches` runs some of them. Prints a table and writes
 * `bench/results/micro-<date>-<commit>.json` with the machine, Node version and commit, so figures are never
 * copied by hand.
 */
import { join } from "node:path";
import { gitCommit, machineLine, today, writeResultsFile } from "../common/run-info.js";
import { benchBookkeeping } from "./access-log.js";
import { benchCaches } from "./caches.js";
import { benchChunked } from "./chunked.js";
import { benchCors } from "./cors.js";
import { benchVerify } from "./verify.js";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const quick = process.argv.includes("--quick");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt === -1 ? null : new Set((process.argv[onlyAt + 1] ?? "").split(","));
const suites: Array<[string, () => Promise<Row[]>]> = [
  ["verify", benchVerify],
  ["chunked", benchChunked],
  ["bookkeeping", benchBookkeeping],
  ["cors", benchCors],
  ["caches", benchCaches],
];
const startedAt = new Date().toISOString();
const rows: Row[] = [];
for (const [name, run] of suites) if (only === null || only.has(name)) rows.push(...(await run()));
const { commit } = gitCommit();
const machine = machineLine();
const date = today();
const width = Math.max(...rows.map((r) => r.name.length));
process.stdout.write(`machine: ${machine}\nnode: ${process.version}\ncommit: ${commit}\n\n`);
for (const r of rows)
  process.stdout.write(`${r.name.padEnd(width)}  ${r.value.toFixed(2).padStart(10)} ${r.unit}\n`);
if (!quick) {
  const file = writeResultsFile(join(import.meta.dirname, "..", "..", "results"), `micro-${date}-${commit}`, {
    kind: "micro",
    date,
    // Orders runs of one day (the report takes the latest); older files have only the date.
    startedAt,
    commit,
    node: process.version,
    machine,
    rows,
  });
  process.stdout.write(`\nwrote ${file}\n`);
}
