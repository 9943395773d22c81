/**
 * osp as users run it, for tests where several gateways share one Redis: `osp serve` (one worker, its own
 * memory and L1 cache) started by the cluster tests' harness, and the CLI's one-shot commands.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCluster } from "../cluster/cluster-harness.js";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const OSP = join(ROOT, "packages", "cli", "bin", "osp.js");

export interface GatewayProcess {
  readonly url: string;
  /** stdout + stderr so far. */
  output(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a gateway whose config is `yaml` plus `listen`, `admin` and `workers: 1`; resolves once it is ready. */
export async function startGatewayProcess(yaml: string): Promise<GatewayProcess> {
  const cluster = await startCluster(
    (ports) =>
      `listen: { host: 127.0.0.1, port: ${ports.listen} }\nadmin: { host: 127.0.0.1, port: ${ports.admin} }\nworkers: 1\n${yaml}`,
  );
  return {
    url: `http://127.0.0.1:${cluster.port}`,
    output: () => cluster.output(),
    stop: async () => (await cluster.stop()).code,
  };
}

/**
 * Starts `count` gateways on `yaml` at once; when one fails to start, stops the others before rejecting
 * (left running, their processes would keep the test file alive until the runner's timeout).
 */
export async function startGatewayProcesses(yaml: string, count: number): Promise<GatewayProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startGatewayProcess(yaml)));
  const gateways = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r) => r.status === "rejected");
  if (failed === undefined) return gateways;
  await Promise.all(gateways.map((g) => g.stop()));
  throw failed.reason;
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
