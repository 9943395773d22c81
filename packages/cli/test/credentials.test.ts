import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { freePort, type RedisServer, startRedis } from "@osp/testkit";
import { minimalYaml, runOsp, writeConfig } from "./run-osp.js";

const SECRETS_KEY = randomBytes(32).toString("base64");
const USAGE_START = "usage:\n  osp credentials add --config FILE";

function redisYaml(url: string): string {
  const prefix = `cli${randomBytes(3).toString("hex")}:`;
  return minimalYaml(`redis: { url: "${url}", keyPrefix: "${prefix}", connectTimeout: 1s }
identity: { secretsKey: "${SECRETS_KEY}" }
`);
}

describe("osp credentials: arguments and config", () => {
  test("without an action, with an unknown one, or without --config: usage on stderr, exit 2", () => {
    const file = writeConfig(minimalYaml());
    for (const args of [
      [],
      ["--config", file],
      ["rename", "--config", file],
      ["list"],
      ["add", "--access-key", "K"],
    ]) {
      const r = runOsp(["credentials", ...args]);
      assert.equal(r.status, 2, `credentials ${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(USAGE_START), r.stderr);
      assert.equal(r.stdout, "");
    }
  });

  test("a config it cannot read: the problem, exit 1", () => {
    const file = writeConfig("").replace(/osp\.yaml$/, "absent.yaml");
    const r = runOsp(["credentials", "list", "--config", file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /absent\.yaml/);
    assert.match(r.stderr, /cannot read file/);
  });

  test("a config without redis or identity.secretsKey: says it needs both, exit 1", () => {
    const noRedis = writeConfig(minimalYaml(`identity: { secretsKey: "${SECRETS_KEY}" }\n`));
    const noKey = writeConfig(minimalYaml('redis: { url: "redis://127.0.0.1:9" }\n'));
    for (const file of [writeConfig(minimalYaml()), noRedis, noKey]) {
      const r = runOsp(["credentials", "list", "--config", file]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "osp credentials: the config needs both `redis` and `identity.secretsKey`\n");
    }
  });

  test("Redis not reachable: says so, exit 1, no stack trace", async () => {
    const r = runOsp([
      "credentials",
      "list",
      "--config",
      writeConfig(redisYaml(`redis://127.0.0.1:${await freePort()}`)),
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^osp credentials: Redis is not reachable \(.+\)\n$/);
  });
});

describe("osp credentials with a Redis", () => {
  let redis: RedisServer;
  let file: string;
  before(async () => {
    redis = await startRedis();
    file = writeConfig(redisYaml(redis.url));
  });
  after(async () => {
    await redis.stop();
  });

  test("add with a secret, list, remove; removing again exits 1", () => {
    const add = runOsp([
      "credentials",
      "add",
      "--config",
      file,
      "--access-key",
      "CLIBOB0001",
      "--principal",
      "bob",
      "--groups",
      "readers,,writers",
      "--secret",
      "bob-secret-0123",
    ]);
    assert.equal(add.status, 0, add.stderr);
    assert.equal(add.stdout, "added CLIBOB0001 for bob\n", "a given secret is never printed");
    const list = runOsp(["credentials", "list", "--config", file]);
    assert.equal(list.status, 0, list.stderr);
    const [row, ...more] = list.stdout.trimEnd().split("\n");
    assert.equal(more.length, 0, list.stdout);
    const [key, principal, groups, createdAt] = row!.split("\t");
    assert.deepEqual([key, principal, groups], ["CLIBOB0001", "bob", "readers,writers"]);
    assert.ok(!Number.isNaN(Date.parse(createdAt ?? "")), row);
    assert.ok(!list.stdout.includes("bob-secret-0123"), "list never shows a secret");

    const remove = runOsp(["credentials", "remove", "--config", file, "--access-key", "CLIBOB0001"]);
    assert.equal(remove.status, 0, remove.stderr);
    assert.equal(remove.stdout, "removed CLIBOB0001\n");
    const again = runOsp(["credentials", "remove", "--config", file, "--access-key", "CLIBOB0001"]);
    assert.equal(again.status, 1);
    assert.equal(again.stdout, "CLIBOB0001 was not stored\n");
    assert.equal(runOsp(["credentials", "list", "--config", file]).stdout, "");
  });

  test("add without --secret generates one and prints it once", () => {
    const r = runOsp([
      "credentials",
      "add",
      `--config=${file}`,
      "--access-key=CLIGEN0001",
      "--principal=gen",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const m = /^added CLIGEN0001 for gen\nsecret access key \(shown once\): ([A-Za-z0-9_-]{40})\n$/.exec(
      r.stdout,
    );
    assert.ok(m !== null, r.stdout);
  });

  test("bad flags: exit 2 with the reason, and nothing stored", () => {
    const cases: Array<[string[], RegExp]> = [
      [["add", "--access-key", "ab", "--principal", "p"], /^--access-key must be 3-128 characters/],
      [["add", "--access-key", "has space", "--principal", "p"], /^--access-key must be 3-128 characters/],
      [["remove"], /^--access-key must be 3-128 characters/],
      [["add", "--access-key", "CLIBAD0001"], /^--principal is required\n/],
      [["add", "--access-key", "CLIBAD0001", "--principal="], /^--principal is required\n/],
      [
        ["add", "--access-key", "CLIBAD0001", "--principal", "p", "--secret", "short"],
        /^--secret must be at least 8 characters\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const [action, ...rest] = args;
      const r = runOsp(["credentials", action!, "--config", file, ...rest]);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    assert.doesNotMatch(runOsp(["credentials", "list", "--config", file]).stdout, /CLIBAD|^ab\t/m);
  });
});
