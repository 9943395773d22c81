/**
 * Issue #4 end to end: gateway processes sharing one Redis (standalone, and a 3-node Redis Cluster) share
 * IAM tokens and client credentials, see revocations within a second, and keep serving through a Redis
 * outage.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  type RedisClusterServer,
  type RedisServer,
  type S3rverUpstream,
  startBearerCheckingUpstream,
  startFakeIamServer,
  startRedis,
  startRedisCluster,
  startS3rver,
} from "@osp/testkit";
import { type GatewayProcess, runOsp, startGatewayProcesses, writeConfigFile } from "./gateway-process.js";
import { ALICE, rejectsWith, sdkClient } from "./harness.js";

const SECRETS_KEY = randomBytes(32).toString("base64");
const BOB = { accessKeyId: "BOBSTOREDKEY0001", secretAccessKey: "bob-stored-secret-0123456789" };
const CAROL = { accessKeyId: "CAROLSTOREDKEY01", secretAccessKey: "carol-stored-secret-012345678" };

/** A port of the server (any node of a cluster: `redis-cli -c` follows redirections). */
function redisPort(redis: RedisServer | RedisClusterServer): number {
  return "ports" in redis ? redis.ports[0]! : redis.port;
}

function s3Yaml(redisUrl: string, upstream: S3rverUpstream, keyPrefix = "t:"): string {
  return `logging: { level: warn }
redis: { url: "${redisUrl}", keyPrefix: "${keyPrefix}" }
identity: { secretsKey: "${SECRETS_KEY}" }
endpoints:
  local:
    url: ${upstream.url}
    auth: { type: hmac, accessKeyId: ${upstream.accessKeyId}, secretAccessKey: ${upstream.secretAccessKey} }
buckets:
  data: { endpoint: local }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: "*", buckets: [data], actions: ["*"] }
`;
}

async function putGet(url: string, who: { accessKeyId: string; secretAccessKey: string }, key: string) {
  const client = sdkClient(url, who);
  try {
    await client.send(new PutObjectCommand({ Bucket: "data", Key: key, Body: key }));
    const got = await client.send(new GetObjectCommand({ Bucket: "data", Key: key }));
    assert.equal(await got.Body?.transformToString(), key);
  } finally {
    client.destroy();
  }
}

/** Polls until `who` is refused as unknown by the gateway at `url`; returns how long that took. */
async function msUntilRefused(url: string, who: { accessKeyId: string; secretAccessKey: string }) {
  const started = Date.now();
  const client = sdkClient(url, who);
  try {
    for (;;) {
      try {
        await client.send(new GetObjectCommand({ Bucket: "data", Key: "probe" }));
      } catch (err) {
        if ((err as { name?: string }).name === "InvalidAccessKeyId") return Date.now() - started;
      }
      if (Date.now() - started > 5_000) return Number.POSITIVE_INFINITY;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    client.destroy();
  }
}

/**
 * CPU seconds used so far by the `osp serve` processes this file started and their descendants (Linux
 * /proc, 100 ticks a second); null elsewhere. Exited processes no longer count: compare live gateways only.
 */
function gatewayCpuSeconds(): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  const procs: { pid: number; ppid: number; ticks: number }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Fields after the ")" closing the command name: state ppid … utime(12th) stime(13th).
      const f = readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]!.split(" ");
      procs.push({ pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {} // gone meanwhile
  }
  const isGateway = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("serve");
    } catch {
      return false;
    }
  };
  const counted = new Set(procs.filter((p) => p.ppid === process.pid && isGateway(p.pid)).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!counted.has(p.ppid) || counted.has(p.pid)) continue;
      counted.add(p.pid);
      grew = true;
    }
  }
  return procs.filter((p) => counted.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) / 100;
}

async function msTaken(action: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await action();
  return Date.now() - started;
}

/** `osp credentials add` through the CLI; asserts success unless `check` is false. */
function addCredential(
  configFile: string,
  who: { accessKeyId: string; secretAccessKey: string },
  principal: string,
  check = true,
) {
  const args = ["credentials", "add", "--config", configFile, "--access-key", who.accessKeyId];
  args.push("--principal", principal, "--secret", who.secretAccessKey);
  const r = runOsp(args);
  if (check) assert.equal(r.status, 0, r.stderr);
  return r;
}

for (const topology of ["standalone", "cluster"] as const) {
  describe(`gateways sharing a ${topology} Redis`, () => {
    let redis: RedisServer | RedisClusterServer;
    before(async () => {
      redis = topology === "standalone" ? await startRedis() : await startRedisCluster();
    });
    after(async () => {
      await redis.stop();
    });

    test("two gateway processes make one IAM token request between them for 200 concurrent requests", async (t) => {
      const iam = await startFakeIamServer();
      const store = await startBearerCheckingUpstream({ isValidToken: (token) => iam.isValidToken(token) });
      const yaml = `logging: { level: warn }
redis: { url: "${redis.url}", keyPrefix: "iam${randomBytes(3).toString("hex")}:" }
endpoints:
  cos: { url: ${store.url}, auth: { type: iam, apiKey: osp-test-api-key, iamUrl: "${iam.url}" } }
buckets:
  cos-data: { endpoint: cos }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules: [{ principal: alice, buckets: [cos-data], actions: ["*"] }]
`;
      const gateways = await startGatewayProcesses(yaml, 2);
      t.after(async () => {
        await Promise.all(gateways.map((g) => g.stop()));
        await store.close();
        await iam.close();
      });
      const clients = gateways.map((g) => sdkClient(g.url));
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          clients[i % 2]!.send(new GetObjectCommand({ Bucket: "cos-data", Key: `missing-${i}` })),
        ),
      );
      for (const c of clients) c.destroy();
      // Every request reached the store with a valid token: the store answers 404 for the missing keys.
      const names = new Set(results.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "ok")));
      assert.deepEqual([...names], ["NoSuchKey"]);
      assert.equal(store.stats.denied, 0);
      assert.equal(store.stats.requests, 200);
      assert.equal(iam.stats.tokensIssued, 1, "one token for both processes");
    });

    test("a credential added and then revoked through the CLI is refused by both gateways within 1 s", async (t) => {
      const upstream = await startS3rver({ buckets: ["data"] });
      const keyPrefix = `rev${randomBytes(3).toString("hex")}:`;
      const yaml = s3Yaml(redis.url, upstream, keyPrefix);
      const gateways = await startGatewayProcesses(yaml, 2);
      const configFile = writeConfigFile(`${yaml}listen: { port: 0 }\n`);
      t.after(async () => {
        await Promise.all(gateways.map((g) => g.stop()));
        await upstream.close();
      });
      // Unknown first (and remembered as unknown), then added: the add reaches both at once.
      await rejectsWith(
        sdkClient(gateways[0]!.url, BOB).send(new GetObjectCommand({ Bucket: "data", Key: "x" })),
        "InvalidAccessKeyId",
        403,
      );
      addCredential(configFile, BOB, "bob");
      const listed = runOsp(["credentials", "list", "--config", configFile]);
      assert.match(listed.stdout, new RegExp(`^${BOB.accessKeyId}\\tbob\\t`, "m"));
      assert.ok(!listed.stdout.includes(BOB.secretAccessKey), "list never prints secrets");
      for (const [i, g] of gateways.entries()) await putGet(g.url, BOB, `bob-${i}.txt`);
      // What Redis holds for the stored credential: an encrypted record, never the secret itself.
      const hashKey = `${keyPrefix}hash:credentials`;
      const raw = spawnSync(
        "redis-cli",
        ["-c", "-p", String(redisPort(redis)), "HGET", hashKey, BOB.accessKeyId],
        {
          encoding: "utf8",
        },
      );
      assert.match(raw.stdout, /"secret":"[A-Za-z0-9+/=]{40,}"/);
      assert.ok(!raw.stdout.includes(BOB.secretAccessKey), "the secret is stored encrypted");

      const removed = runOsp([
        "credentials",
        "remove",
        "--config",
        configFile,
        "--access-key",
        BOB.accessKeyId,
      ]);
      assert.equal(removed.status, 0, removed.stderr);
      const delays = await Promise.all(gateways.map((g) => msUntilRefused(g.url, BOB)));
      // Pub/sub delivers the removal at once; the bound only separates that from a TTL expiry (minutes).
      for (const ms of delays) assert.ok(ms < 10_000, `refused after ${ms} ms`);
      // Config-sourced identities are untouched.
      for (const [i, g] of gateways.entries()) await putGet(g.url, ALICE, `alice-${i}.txt`);
    });

    test("with Redis killed, cached and configured principals keep working; service recovers when it returns", async (t) => {
      // Every node of a cluster dies at once; it returns with the same slots (nodes-PORT.conf) but no keys.
      const server = redis;
      const upstream = await startS3rver({ buckets: ["data"] });
      const yaml = s3Yaml(server.url, upstream);
      const gateways: GatewayProcess[] = await startGatewayProcesses(yaml, 2);
      const configFile = writeConfigFile(`${yaml}listen: { port: 0 }\n`);
      t.after(async () => {
        await Promise.all(gateways.map((g) => g.stop()));
        await upstream.close();
        await server.start().catch(() => {});
      });
      addCredential(configFile, BOB, "bob");
      addCredential(configFile, CAROL, "carol");
      for (const g of gateways) await putGet(g.url, BOB, "bob.txt"); // bob is now cached in both

      await server.kill();
      for (const [i, g] of gateways.entries()) {
        // No request waits long on a dead Redis: a hang here would show as well as a failure.
        const msAlice = await msTaken(() => putGet(g.url, ALICE, "alice-during.txt"));
        const msBob = await msTaken(() => putGet(g.url, BOB, "bob-during.txt"));
        // Carol is stored but was never looked up: no answer can be given without Redis, and none hangs.
        const msCarol = await msTaken(() =>
          rejectsWith(
            sdkClient(g.url, CAROL).send(new GetObjectCommand({ Bucket: "data", Key: "x" })),
            "ServiceUnavailable",
            503,
          ),
        );
        t.diagnostic(
          `gateway ${i}, Redis down: alice ${msAlice} ms, bob ${msBob} ms, carol 503 ${msCarol} ms`,
        );
        for (const ms of [msAlice, msBob, msCarol]) assert.ok(ms < 10_000, `a request took ${ms} ms`);
      }
      // Idle gateways facing a dead Redis wait between reconnects (backoff up to 2 s), they do not spin.
      const cpuBefore = gatewayCpuSeconds();
      await new Promise((r) => setTimeout(r, 2_000));
      const cpuAfter = gatewayCpuSeconds();
      const idleCpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      t.diagnostic(`both gateways, idle 2 s with Redis down: ${idleCpu?.toFixed(2) ?? "?"} CPU seconds`);

      const restarting = Date.now();
      await server.start(); // empty: the store must be filled again
      const restarted = Date.now();
      t.diagnostic(
        `Redis answering again (a cluster: cluster_state:ok) ${restarted - restarting} ms after start()`,
      );
      const until = restarted + 10_000;
      for (;;) {
        const r = addCredential(configFile, CAROL, "carol", false);
        if (r.status === 0) break;
        assert.ok(Date.now() < until, `Redis did not come back: ${r.stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      t.diagnostic(`credential stored again ${Date.now() - restarted} ms after the restart`);
      for (const [i, g] of gateways.entries()) {
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            await putGet(g.url, CAROL, "carol.txt");
            break;
          } catch (err) {
            if (Date.now() > deadline) {
              const why = `gateway ${i} never served carol after the restart: ${(err as Error).name}`;
              throw new Error(`${why}\n${g.output().slice(-3_000)}`, { cause: err });
            }
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        t.diagnostic(`gateway ${i} serves carol ${Date.now() - restarted} ms after the restart`);
      }
      if (idleCpu !== null)
        assert.ok(idleCpu < 0.5, `gateways busy while Redis was down: ${idleCpu.toFixed(2)} CPU s in 2 s`);
    });
  });
}
