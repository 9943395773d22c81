/**
 * `make bench-identity`: what identity and authorization add per request, in one worker, against a
 * real redis-server. Each scenario runs the gateway's own phases 2 and 3 exactly as a request does —
 * credential lookup, signing key, signature check, request quotas, authorization — through a GatewayCore
 * built from a config, so the figures include the cache, Redis round trips, decryption and hooks.
 *
 * - baseline: config credentials + config rules (nothing cached, nothing to cache).
 * - warm: a Redis-stored credential and an authorization hook whose decision is cached (L1 hits).
 * - cold: every request a different stored access key and a different object key: a Redis HGET, AES-GCM
 *   decryption, a signing-key derivation, a decision miss in L1 and Redis, the hook, and a Redis SET.
 * - cold webhook: as cold, with an HTTP webhook instead of the hook.
 * Writes bench/results/identity-<date>-<commit>.json.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileConfig } from "@osp/config";
import { createCredentialStore, createWorkerCache, GatewayCore } from "@osp/gateway";
import { createLogger } from "@osp/log";
import { authenticateRequest, type RequestFacts, signRequest, verifySignature } from "@osp/sigv4";
import { closeServer, listenOnLoopback, startRedis } from "@osp/testkit";
import { gitCommit, machineLine, today, writeResultsFile } from "../common/run-info.js";

const quick = process.argv.includes("--quick");
const N = quick ? 200 : 5_000;
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const dir = mkdtempSync(join(tmpdir(), "osp-bench-identity-"));
const hookFile = join(dir, "authz.mjs");
writeFileSync(hookFile, "export function authorize(f) { return f.bucket === 'data'; }\n");
const secretsKey = randomBytes(32).toString("hex");

const redis = await startRedis();
const webhook = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.setHeader("content-type", "application/json");
    res.end('{"result":true}');
  });
});
const webhookUrl = `http://127.0.0.1:${await listenOnLoopback(webhook)}/v1/data/osp/allow`;

function configYaml(kind: "baseline" | "hook" | "webhook"): string {
  const authz =
    kind === "baseline"
      ? "authorization: { rules: [{ principal: '*', buckets: [data], actions: ['*'] }] }"
      : kind === "hook"
        ? `authorization: { hook: ${hookFile} }`
        : `authorization: { webhook: { url: "${webhookUrl}", timeout: 2s } }`;
  return `logging: { level: silent }
redis: { url: "${redis.url}", keyPrefix: "bench-${kind}:" }
identity: { secretsKey: "${secretsKey}" }
endpoints: { e: { url: "http://127.0.0.1:9", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { data: { endpoint: e } }
credentials: [{ accessKeyId: CONFIGKEY0000001, secretAccessKey: config-secret-0123, principal: alice }]
${authz}
`;
}

function signed(accessKeyId: string, secret: string, key: string): RequestFacts {
  const headers: Array<[string, string]> = [["host", "127.0.0.1:6190"]];
  const s = signRequest({
    method: "GET",
    rawPath: `/data/${key}`,
    rawQuery: "",
    headers,
    payloadHash: EMPTY,
    accessKeyId,
    secretAccessKey: secret,
    region: "us-east-1",
    nowMs: Date.now(),
  });
  return { method: "GET", rawPath: `/data/${key}`, rawQuery: "", headers: [...headers, ...s.headersToAdd] };
}

/** Phases 2 and 3 as Exchange runs them. */
async function pass(core: GatewayCore, req: RequestFacts, key: string): Promise<void> {
  const { options, services } = core;
  const auth = authenticateRequest(req, options.auth);
  if (auth === null || auth instanceof Error) throw new Error("authentication failed");
  const credential = await services.credentials.lookup(auth.accessKeyId);
  if (credential === null) throw new Error(`unknown key ${auth.accessKeyId}`);
  const signingKey = services.signingKeys.get(credential.secretAccessKey, auth.scope);
  if (verifySignature(auth, signingKey, options.verify) !== null) throw new Error("bad signature");
  if (services.limiter !== null) await services.limiter(auth);
  const verdict = await services.authorizer({
    principal: credential.principal,
    accessKeyId: credential.accessKeyId,
    action: "read",
    operation: "GetObject",
    bucket: "data",
    key,
    listPrefix: null,
    method: "GET",
    sourceIp: "127.0.0.1",
    presigned: false,
  });
  if (!verdict) throw new Error("denied");
}

interface Row {
  scenario: string;
  requests: number;
  usPerRequest: number;
  cpuUsPerRequest: number;
}

async function measure(
  scenario: string,
  core: GatewayCore,
  requests: Array<[RequestFacts, string]>,
): Promise<Row> {
  for (const [req, key] of requests.slice(0, 20)) await pass(core, req, key); // warm the JIT (and caches)
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [req, key] of requests) await pass(core, req, key);
  const elapsedUs = (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    scenario,
    requests: requests.length,
    usPerRequest: elapsedUs / requests.length,
    cpuUsPerRequest: (cpu.user + cpu.system) / requests.length,
  };
}

async function coreFor(kind: "baseline" | "hook" | "webhook") {
  const config = compileConfig(configYaml(kind), "bench", {});
  const log = createLogger({ level: "silent" });
  const cache = createWorkerCache(config, log);
  const core = new GatewayCore(config, { log, cache });
  await core.ready;
  while (cache.status().redis !== "up") await new Promise((r) => setTimeout(r, 20));
  const store = createCredentialStore(config, cache);
  if (store === null) throw new Error("no credential store");
  return { core, cache, store };
}

const rows: Row[] = [];
{
  const { core, cache } = await coreFor("baseline");
  const req = signed("CONFIGKEY0000001", "config-secret-0123", "obj.txt");
  rows.push(await measure("baseline: config credential + rules", core, Array(N).fill([req, "obj.txt"])));
  await core.close();
  await cache.close();
}
for (const kind of ["hook", "webhook"] as const) {
  const { core, cache, store } = await coreFor(kind);
  const keys = Array.from(
    { length: N + 20 },
    (_, i) => `BENCH${kind.toUpperCase()}${String(i).padStart(8, "0")}`,
  );
  for (const k of keys)
    await store.add({ accessKeyId: k, secretAccessKey: `secret-${k}`, principal: k, groups: [] });
  const warm = signed(keys[0]!, `secret-${keys[0]}`, "obj.txt");
  rows.push(
    await measure(`warm: stored credential + ${kind} (cached)`, core, Array(N).fill([warm, "obj.txt"])),
  );
  const cold = keys
    .slice(1)
    .map((k, i): [RequestFacts, string] => [signed(k, `secret-${k}`, `o-${i}`), `o-${i}`]);
  rows.push(await measure(`cold: new stored credential + ${kind} decision each request`, core, cold));
  await core.close();
  await cache.close();
}
await redis.stop();
await closeServer(webhook);

const { commit } = gitCommit();
const machine = machineLine();
const date = today();
const baseline = rows[0]!.cpuUsPerRequest;
process.stdout.write(`machine: ${machine}\nnode: ${process.version}\ncommit: ${commit}\n\n`);
for (const r of rows) {
  process.stdout.write(
    `${r.scenario.padEnd(58)} ${r.usPerRequest.toFixed(1).padStart(8)} µs/req  ${r.cpuUsPerRequest.toFixed(1).padStart(8)} µs CPU/req  (+${(r.cpuUsPerRequest - baseline).toFixed(1)} µs CPU vs baseline)\n`,
  );
}
if (!quick) {
  const file = writeResultsFile(
    join(import.meta.dirname, "..", "..", "results"),
    `identity-${date}-${commit}`,
    { kind: "identity", date, commit, node: process.version, machine, rows },
  );
  process.stdout.write(`\nwrote ${file}\n`);
}
