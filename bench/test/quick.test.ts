/**
 * The CI smoke test of the benchmark suite: `run.js --quick` for two scenarios and the memory transfer, then
 * the results file is checked for every field RESULTS.md is built from. No timing is asserted (figures on a
 * shared CI machine mean nothing); what fails is a scenario that stops working or a field that goes missing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NGINX, nginxHasDav } from "../proxy/nginx.js";
import type { SuiteResult, TargetFigures } from "../proxy/results.js";
import { WRK } from "../proxy/wrk.js";

const runJs = join(import.meta.dirname, "..", "proxy", "run.js");
const missing = !existsSync(NGINX)
  ? `nginx is not installed (${NGINX})`
  : !existsSync(WRK)
    ? `wrk is not installed (${WRK})`
    : !nginxHasDav()
      ? "this nginx has no dav module (PUT)"
      : false;

const out = mkdtempSync(join(tmpdir(), "osp-bench-quick-"));
after(() => rmSync(out, { recursive: true, force: true }));

function runQuick(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [runJs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.on("exit", (code) => resolve({ code, output }));
  });
}

const finite = (n: unknown, what: string) =>
  assert.ok(typeof n === "number" && Number.isFinite(n), `${what}: ${n}`);

function checkTarget(scenario: string, t: TargetFigures): void {
  const what = `${scenario}/${t.target}`;
  for (const key of ["rps", "mbps", "p50ms", "p99ms"] as const) finite(t[key], `${what} ${key}`);
  assert.ok(t.rps > 0, `${what} served requests`);
  finite(t.cpuUs.upstream, `${what} upstream CPU`);
  finite(t.cpuUs.loadGenerator, `${what} wrk CPU`);
  if (t.target === "upstream") assert.equal(t.cpuUs.gateway, null);
  else {
    finite(t.cpuUs.gateway, `${what} gateway CPU`);
    assert.ok((t.cpuUs.gateway ?? 0) > 0, `${what} gateway used CPU`);
    finite(t.rssPerWorkerMiB, `${what} RSS per worker`);
    assert.ok(t.gatewayProcesses >= 1);
  }
  assert.ok(t.vsNginx !== null, `${what} has ratios against nginx`);
  for (const key of ["rps", "mbps", "p50", "p99", "cpuServers"] as const)
    finite(t.vsNginx[key], `${what} ×nginx ${key}`);
  assert.equal(t.rounds.length, 1);
}

test("a quick run of get-1k, put-1m and the memory transfer writes a results file with every figure", {
  skip: missing,
  timeout: 120_000,
}, async () => {
  const { code, output } = await runQuick([
    "--quick",
    "--scenarios",
    "get-1k,put-1m,memory-1g",
    "--mem-mib",
    "16",
    "--out",
    out,
  ]);
  assert.equal(code, 0, output);
  const files = readdirSync(out).filter((f) => f.endsWith(".json"));
  assert.equal(files.length, 1, `one results file in ${out}: ${files.join(", ")}`);
  assert.match(files[0] ?? "", /^\d{4}-\d{2}-\d{2}-[0-9a-f]+\.json$|^\d{4}-\d{2}-\d{2}-unknown\.json$/);
  const r = JSON.parse(readFileSync(join(out, files[0] ?? ""), "utf8")) as SuiteResult;

  assert.equal(r.kind, "suite");
  assert.equal(r.settings.quick, true);
  assert.match(r.node, /^v\d+\./);
  assert.ok(r.machine.cores >= 1 && r.machine.cpuModel !== "");
  assert.ok(r.commit !== "" && typeof r.dirty === "boolean");
  assert.match(r.nginx, /^nginx\//);
  assert.deepEqual(
    r.scenarios.map((s) => s.scenario),
    ["get-1k", "put-1m"],
  );
  for (const s of r.scenarios) {
    assert.equal(s.workers, 1);
    assert.ok(s.measures.length > 0);
    assert.deepEqual(
      s.targets.map((t) => t.target),
      ["upstream", "nginx", "osp"],
    );
    for (const t of s.targets) checkTarget(s.scenario, t);
    assert.equal(s.targets.find((t) => t.target === "nginx")?.vsNginx?.rps, 1);
  }
  assert.ok(r.memory !== null, "the memory scenario ran");
  assert.deepEqual(
    r.memory.rows.map((m) => [m.direction, m.bytes]),
    [
      ["down", 16 * 2 ** 20],
      ["up", 16 * 2 ** 20],
      ["up-chunked", 16 * 2 ** 20],
      ["up-signed", 16 * 2 ** 20],
    ],
  );
  for (const m of r.memory.rows) finite(m.peakRssMiB, `memory ${m.direction} peak`);
  // The table printed at the end names every scenario and target.
  assert.match(output, /put-1m\s+1\s+osp\s+\d+/);
});

test("an unknown scenario is refused with the list of scenarios and exit code 2", async () => {
  const { code, output } = await runQuick(["--quick", "--scenarios", "get-2k"]);
  assert.equal(code, 2);
  assert.match(output, /unknown scenario get-2k \(get-1k, get-64k/);
});
