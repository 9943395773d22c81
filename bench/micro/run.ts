/**
 * `make bench-micro`: the SigV4 micro-benchmarks (verification, key derivation, signing, aws-chunked
 * decoding, checksums). Prints a table and writes `bench/results/micro-<date>-<commit>.json` with the
 * machine, Node version and commit, so figures are never copied by hand.
 */
import { join } from "node:path";
import { gitCommit, machineLine, today, writeResultsFile } from "../common/run-info.js";
import { benchChunked } from "./chunked.js";
import { benchVerify } from "./verify.js";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const quick = process.argv.includes("--quick");
const rows: Row[] = [...(await benchVerify()), ...(await benchChunked())];
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
    commit,
    node: process.version,
    machine,
    rows,
  });
  process.stdout.write(`\nwrote ${file}\n`);
}
