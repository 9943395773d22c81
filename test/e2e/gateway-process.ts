/**
 * osp as users run it: `osp serve --config FILE` in a child process (its own memory, its own L1 cache), for
 * tests where several gateways share one Redis. Output is kept so tests can assert what was logged.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitForPort } from "@osp/testkit";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const OSP = join(ROOT, "packages", "cli", "bin", "osp.js");

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly adminPort: number;
  /** stdout + stderr so far. */
  output(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts a gateway whose config is `yaml` plus `listen`, `admin` and `workers: 1` (chosen here). The config
 * file is written next to `files` (name → content), so hook modules can be given relative paths.
 */
export async function startGatewayProcess(
  yaml: string,
  options: { files?: Record<string, string>; env?: Record<string, string> } = {},
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "osp-gw-"));
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, "osp.yaml");
  writeFileSync(
    file,
    `listen: { host: 127.0.0.1, port: ${port} }\nadmin: { host: 127.0.0.1, port: ${adminPort} }\nworkers: 1\n${yaml}`,
  );
  const child: ChildProcess = spawn(process.execPath, [OSP, "serve", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  try {
    await waitForPort(port, 20_000, () => (child.exitCode !== null ? `osp exited: ${output}` : null));
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    adminPort,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs `osp <args>` to completion (the CLI as an operator runs it). */
export function runOsp(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OSP, ...args], { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a config file for CLI commands (`osp credentials …`) and returns its path. */
export function writeConfigFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "osp-cfg-"));
  const file = join(dir, "osp.yaml");
  writeFileSync(file, yaml);
  return file;
}
