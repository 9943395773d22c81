#!/usr/bin/env node
// Runs every compiled test file (`dist/**/*.test.js` of each workspace package, of bench/ and of test/)
// with node's test runner. Node 20 has no glob support in `--test`, so the files are listed here.
// Usage: node scripts/run-tests.mjs [dir ...]   (default: every package, bench and test/)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const wanted = process.argv.slice(2);
const dirs =
  wanted.length > 0
    ? wanted.map((d) => resolve(root, d))
    : [
        ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p)),
        join(root, "bench"),
        join(root, "test"),
      ];

/**
 * Compiled tests under `dist` (of the package folder `base`) whose TypeScript source still exists: `tsc -b`
 * never deletes the output of a deleted source, and a stale test must not keep running.
 */
function collect(base, dir, out) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(base, full, out);
    else if (name.endsWith(".test.js")) {
      const source = join(base, relative(join(base, "dist"), full)).replace(/\.js$/, ".ts");
      if (existsSync(source)) out.push(full);
    }
  }
}

const files = [];
for (const d of dirs) collect(d, join(d, "dist"), files);
if (files.length === 0) {
  console.error("run-tests: no compiled test files found; run `make build` first");
  process.exit(1);
}
const concurrency = process.env.OSP_TEST_CONCURRENCY ?? "2";
// Every test file gets a bound, so a hang fails its file instead of stalling CI until its own limit.
const timeoutMs = process.env.OSP_TEST_FILE_TIMEOUT_MS ?? "300000";
const r = spawnSync(
  process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...files],
  {
    stdio: "inherit",
    cwd: root,
  },
);
process.exit(r.status ?? 1);
