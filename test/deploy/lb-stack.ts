/**
 * The pieces of the live load-balancer test: `osp serve` processes (a primary, its workers and the admin
 * listener, as operators run them), HAProxy started from deploy/lb/haproxy.cfg with only addresses and check
 * timings substituted, and readers for each one's state (/readyz, /metrics, HAProxy's stats CSV).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "@osp/testkit";
import { ALICE } from "../e2e/harness.js";
import { ROOT, readDeploy } from "./deploy-files.js";

/** A child process whose output tail is kept for failure messages. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Children still running; killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export function spawnChild(bin: string, args: readonly string[]): Child {
  const child = spawn(bin, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let tail = "";
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once("error", (err) => {
      tail += String(err);
      resolve(-1);
    });
  });
  return { process: child, exited, output: () => tail };
}

/** SIGTERM (if still running) and wait for the exit. */
export async function stopChild(child: Child | undefined): Promise<void> {
  if (child === undefined) return;
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGTERM");
  await child.exited;
}

export interface OspInstance extends Child {
  readonly s3Port: number;
  readonly adminPort: number;
  readonly admin: string;
}

/** `osp serve` with one worker, the given Redis and upstream, and ALICE allowed everything on `data`. */
export async function startOsp(options: {
  redisUrl: string;
  upstream: { url: string; accessKeyId: string; secretAccessKey: string };
  dir: string;
  name: string;
}): Promise<OspInstance> {
  const [s3Port, adminPort] = [await freePort(), await freePort()];
  const file = join(options.dir, `${options.name}.yaml`);
  writeFileSync(
    file,
    `listen: { host: 127.0.0.1, port: ${s3Port} }
admin: { host: 127.0.0.1, port: ${adminPort} }
workers: 1
shutdown: { drainTimeout: 10s }
redis: { url: "${options.redisUrl}", keyPrefix: "osp-lb-test:" }
logging: { level: warn }
endpoints:
  local:
    url: ${options.upstream.url}
    addressing: path
    auth: { type: hmac, accessKeyId: ${options.upstream.accessKeyId}, secretAccessKey: ${options.upstream.secretAccessKey} }
buckets:
  data: { endpoint: local }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: [data], actions: ["*"] }
`,
  );
  const child = spawnChild(process.execPath, [
    join(ROOT, "packages/cli/bin/osp.js"),
    "serve",
    "--config",
    file,
  ]);
  await waitForPort(s3Port, 30_000, () =>
    child.process.exitCode !== null ? `osp ${options.name} exited: ${child.output()}` : null,
  );
  return { ...child, s3Port, adminPort, admin: `http://127.0.0.1:${adminPort}` };
}

/** GET on an admin URL: status and body, or null when nothing answers. */
export async function adminGet(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

/** Polls `check` every 50 ms until it returns a value other than null, or throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null>,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The sum of every series of one metric on an instance's /metrics (all its workers, aggregated). */
export async function metricSum(instance: OspInstance, name: string): Promise<number> {
  const res = await adminGet(`${instance.admin}/metrics`);
  if (res === null || res.status !== 200)
    throw new Error(`${instance.admin}/metrics: ${res?.status ?? "down"}`);
  let total = 0;
  for (const line of res.body.split("\n")) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) total += Number(m[2]);
  }
  return total;
}

/** Replaces exactly one match, so a changed example fails here instead of being tested half-substituted. */
function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  const count = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`))].length;
  if (count !== 1) throw new Error(`deploy/lb/haproxy.cfg: expected one match of ${pattern}, found ${count}`);
  return text.replace(pattern, replacement);
}

export interface Haproxy extends Child {
  readonly url: string;
  /** Server name → status in HAProxy's stats (`UP`, `DOWN`, `UP 1/2`…). */
  serverStatus(): Promise<Record<string, string>>;
}

/**
 * deploy/lb/haproxy.cfg as shipped, except: loopback addresses and free ports, `server` lines for `instances`,
 * checks every 100 ms taking an instance out after one failure, a lower maxconn, and no chroot/user/syslog
 * (a test runs unprivileged).
 */
export async function startHaproxy(
  bin: string,
  instances: readonly OspInstance[],
  dir: string,
): Promise<Haproxy> {
  const [port, statsPort] = [await freePort(), await freePort()];
  let cfg = readDeploy("lb/haproxy.cfg");
  for (const line of [
    /^[ \t]*log \/dev\/log.*\n/m,
    /^[ \t]*chroot .*\n/m,
    /^[ \t]*user .*\n/m,
    /^[ \t]*group .*\n/m,
  ])
    cfg = replaceOnce(cfg, line, "");
  // Each connection needs two descriptors: 20000 connections are beyond an unprivileged test's limit.
  cfg = replaceOnce(cfg, /^([ \t]*)maxconn 20000$/m, "$1maxconn 1000");
  cfg = replaceOnce(cfg, /^([ \t]*)bind :6190$/m, `$1bind 127.0.0.1:${port}`);
  cfg = replaceOnce(
    cfg,
    /^([ \t]*)default-server check port 9090 .*$/m,
    "$1default-server check inter 100ms fall 1 rise 1",
  );
  cfg = replaceOnce(
    cfg,
    /^[ \t]*server osp1 .*\n([ \t]*server osp\d .*\n)+/m,
    instances.map((o, i) => `    server osp${i + 1} 127.0.0.1:${o.s3Port} port ${o.adminPort}\n`).join(""),
  );
  cfg = replaceOnce(cfg, /^([ \t]*)bind 127\.0\.0\.1:8404$/m, `$1bind 127.0.0.1:${statsPort}`);
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, cfg);
  const child = spawnChild(bin, ["-db", "-f", file]);
  await waitForPort(port, 10_000, () =>
    child.process.exitCode !== null ? `haproxy exited: ${child.output()}` : null,
  );
  return {
    ...child,
    url: `http://127.0.0.1:${port}`,
    async serverStatus() {
      const res = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`);
      const [header, ...rows] = (await res.text()).trim().split("\n");
      const columns = header!.replace(/^# /, "").split(",");
      const [px, sv, st] = ["pxname", "svname", "status"].map((c) => columns.indexOf(c));
      const status: Record<string, string> = {};
      for (const row of rows) {
        const cells = row.split(",");
        if (cells[px!] === "osp" && cells[sv!] !== "BACKEND") status[cells[sv!]!] = cells[st!]!;
      }
      return status;
    },
  };
}

export function scratchDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "osp-lb-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
