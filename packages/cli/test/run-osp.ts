/**
 * Runs the `osp` command (packages/cli/bin/osp.js, the compiled CLI) as a child process, so the tests see what
 * a shell sees: the exit status and both streams.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const OSP = fileURLToPath(new URL("../../bin/osp.js", import.meta.url));

export interface OspRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runOsp(args: readonly string[], env: Record<string, string> = {}): OspRun {
  const { OSP_LOG_LEVEL: _level, ...inherited } = process.env;
  const r = spawnSync(process.execPath, [OSP, ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...inherited, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes `yaml` to a fresh temporary directory; returns the file's path. */
export function writeConfig(yaml: string, name = "osp.yaml"): string {
  const file = join(mkdtempSync(join(tmpdir(), "osp-cli-")), name);
  writeFileSync(file, yaml);
  return file;
}

/** A valid config: one endpoint (nothing listens there; these commands never call it), one bucket, one client. */
export function minimalYaml(extra = ""): string {
  return `endpoints:
  local:
    url: http://127.0.0.1:9
    auth: { type: hmac, accessKeyId: up, secretAccessKey: up-secret }
buckets:
  data: { endpoint: local }
credentials:
  - { accessKeyId: CLITESTKEY01, secretAccessKey: cli-test-secret-0123, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: [data], actions: [read] }
${extra}`;
}
