import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_ORIGIN_OPTIONS } from "@osp/upstream";
import { ConfigError, compileConfig, readConfigFile, resolveWorkerCount } from "../src/index.js";

const minimal = `
endpoints:
  local:
    url: http://127.0.0.1:9000
    auth: { type: hmac, accessKeyId: up, secretAccessKey: upsecret }
buckets:
  data: { endpoint: local }
`;

test("an endpoint's pool defaults are the upstream client's, one set of numbers", () => {
  const pool = compileConfig(minimal, "t.yaml", {}).endpoints["local"]!.pool;
  assert.deepEqual(
    {
      connections: pool.connections,
      connectTimeoutMs: pool.connectTimeout,
      headersTimeoutMs: pool.headersTimeout,
      bodyTimeoutMs: pool.bodyTimeout,
      keepAliveTimeoutMs: pool.keepAliveTimeout,
      queueTimeoutMs: pool.queueTimeout,
      pausedTimeoutMs: pool.pausedTimeout,
      caFile: null,
    },
    { ...DEFAULT_ORIGIN_OPTIONS },
  );
  assert.equal(pool.connectTimeout, 5_000);
  assert.equal(pool.headersTimeout, 30_000);
  assert.equal(pool.bodyTimeout, 30_000);
});

test("workers: auto is the CPUs this process may use; a number is itself", () => {
  assert.equal(resolveWorkerCount(compileConfig(minimal, "t.yaml", {})), availableParallelism());
  assert.equal(resolveWorkerCount(compileConfig(`workers: 3\n${minimal}`, "t.yaml", {})), 3);
});

test("readConfigFile returns the text it compiled; an unreadable file is a ConfigError at the root", () => {
  const dir = mkdtempSync(join(tmpdir(), "osp-config-"));
  const file = join(dir, "osp.yaml");
  writeFileSync(file, minimal);
  const { text, config } = readConfigFile(file, {});
  assert.equal(text, minimal);
  assert.equal(config.source, file);
  const missing = join(dir, "missing.yaml");
  assert.throws(
    () => readConfigFile(missing, {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 1 &&
      err.problems[0]!.path === "" &&
      err.problems[0]!.message.startsWith("cannot read file: ") &&
      err.message.startsWith(`${missing}: 1 problem(s)`),
  );
});
