/**
 * The real CLI (`node packages/cli/bin/osp.js serve --config FILE`) as a child process, in its own process
 * group, with its whole output (primary and workers) kept for the tests to read. Ports are chosen free on
 * 127.0.0.1; the admin listener is polled over HTTP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, requestText } from "@osp/testkit";
import { ALICE } from "../e2e/harness.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OSP_BIN = join(REPO_ROOT, "packages/cli/bin/osp.js");

export interface AdminAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface Cluster {
  readonly port: number;
  readonly adminPort: number;
  readonly configFile: string;
  readonly dir: string;
  readonly pid: number;
  /** Everything the cluster wrote to stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines so far (stdout), parsed. */
  logLines(): Array<Record<string, unknown>>;
  admin(path: string, token?: string): Promise<AdminAnswer>;
  /** Polls /readyz until `want(status, body)` holds; returns the body. */
  waitReadyz(want: (status: number, body: ReadyzBody) => boolean, timeoutMs?: number): Promise<ReadyzBody>;
  /** Polls the log until a line matches. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  writeConfig(yaml: string): void;
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit (SIGKILL to the whole group after `timeoutMs`); removes the temp dir. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ReadyzBody {
  status: string;
  draining: boolean;
  port: number | null;
  workers: {
    expected: number;
    listening: number;
    failed: number;
    processes: Array<{ slot: number; pid: number; state: string; generation: number }>;
  };
  config: { source: string; generation: number };
  redis: Array<{ slot: number; pid: number; state: string }>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 20 ms; throws after `timeoutMs` (so a test never hangs with its load running). */
export async function waitUntil(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Writes `yaml(ports)` and starts the cluster; waits until /readyz answers 200 unless `waitReady` is false.
 * `yaml` must use `ports.listen` and `ports.admin`.
 */
export async function startCluster(
  yaml: (ports: { listen: number; admin: number; dir: string }) => string,
  options: { env?: Record<string, string>; waitReady?: boolean; adminToken?: string } = {},
): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "osp-cluster-"));
  const ports = { listen: await freePort(), admin: await freePort(), dir };
  const configFile = join(dir, "osp.yaml");
  writeFileSync(configFile, yaml(ports));
  const child: ChildProcess = spawn(process.execPath, [OSP_BIN, "serve", "--config", configFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  // Whatever happens to the test process, the cluster goes with it.
  process.once("exit", killGroup);

  const admin = (path: string, token = options.adminToken) => adminRequest(ports.admin, path, token);
  const logLines = () =>
    stdout.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const cluster: Cluster = {
    port: ports.listen,
    adminPort: ports.admin,
    configFile,
    dir,
    pid: child.pid ?? 0,
    output: () => stdout + stderr,
    logLines,
    admin,
    async waitReadyz(want, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        if (done) throw new Error(`the cluster exited while waiting for /readyz:\n${stdout}${stderr}`);
        try {
          const res = await admin("/readyz");
          last = `${res.status} ${res.body}`;
          const body = JSON.parse(res.body) as ReadyzBody;
          if (want(res.status, body)) return body;
        } catch (err) {
          last = String(err);
        }
        if (Date.now() > until)
          throw new Error(`/readyz never matched; last answer: ${last}\n${stdout}${stderr}`);
        await sleep(50);
      }
    },
    async waitForLog(match, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const line = logLines().find(match);
        if (line !== undefined) return line;
        if (Date.now() > until)
          throw new Error(`no matching log line within ${timeoutMs} ms:\n${stdout}${stderr}`);
        await sleep(50);
      }
    },
    writeConfig: (text) => writeFileSync(configFile, text),
    signal: (signal) => child.kill(signal),
    exited,
    async stop(timeoutMs = 15_000) {
      if (!done) child.kill("SIGTERM");
      const timer = setTimeout(killGroup, timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      killGroup();
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
  if (options.waitReady !== false) {
    try {
      await cluster.waitReadyz((status) => status === 200);
    } catch (err) {
      killGroup();
      throw err;
    }
  }
  return cluster;
}

export function adminRequest(port: number, path: string, token?: string): Promise<AdminAnswer> {
  return requestText({
    host: "127.0.0.1",
    port,
    path,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    agent: false,
  });
}

/** The sum of every series of `name` in a Prometheus text (`name` or `name{…}` lines). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** The config every cluster test shares: s3rver upstream, alice (everything on `data`), 2 workers. */
export function baseYaml(
  ports: { listen: number; admin: number },
  upstreamUrl: string,
  extra: {
    buckets?: string;
    top?: string;
    adminToken?: string;
    workers?: number;
    drainTimeout?: string;
  } = {},
): string {
  const token = extra.adminToken === undefined ? "" : `, token: ${extra.adminToken}`;
  return `
listen: { host: 127.0.0.1, port: ${ports.listen} }
admin: { host: 127.0.0.1, port: ${ports.admin}${token} }
workers: ${extra.workers ?? 2}
shutdown: { drainTimeout: ${extra.drainTimeout ?? "10s"} }
${extra.top ?? ""}
endpoints:
  local:
    url: ${upstreamUrl}
    addressing: path
    auth: { type: hmac, accessKeyId: S3RVER, secretAccessKey: S3RVER }
buckets:
  data: { endpoint: local }
${extra.buckets ?? ""}
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["*"], actions: ["*"] }
`;
}
