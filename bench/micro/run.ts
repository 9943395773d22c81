/**
 * `make bench-micro`: the SigV4 micro-benchmarks (verification, key derivation, signing, aws-chunked
 * decoding, checksums). Prints a table and writes `bench/results/micro-<date>-<commit>.json` with the
 * machine, Node version and commit, so figures are never copied by hand.
 */
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { benchChunked } from "./chunked.js";
import { benchVerify } from "./verify.js";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const quick = process.argv.includes("--quick");
const rows: Row[] = [...(await benchVerify()), ...(await benchChunked())];
const commit = (() => {
  try {
    return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
const date = new Date().toISOString().slice(0, 10);
const width = Math.max(...rows.map((r) => r.name.length));
process.stdout.write(`machine: ${machine}\nnode: ${process.version}\ncommit: ${commit}\n\n`);
for (const r of rows)
  process.stdout.write(`${r.name.padEnd(width)}  ${r.value.toFixed(2).padStart(10)} ${r.unit}\n`);
if (!quick) {
  const dir = join(import.meta.dirname, "..", "..", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `micro-${date}-${commit}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ kind: "micro", date, commit, node: process.version, machine, rows }, null, 2)}\n`,
  );
  process.stdout.write(`\nwrote ${file}\n`);
}
