import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeHeapSnapshot } from "node:v8";
import { createCache } from "@osp/cache";
import { startRedis } from "@osp/testkit";
import type { ClientCredential } from "../src/identity/credential.js";
import {
  createConfigCredentials,
  createCredentialSource,
  createCredentialStore,
} from "../src/identity/credential-sources.js";
import { recordingLogger, redisForFile, silentLogger, testConfig } from "./helpers.js";

const redis = redisForFile();

const dir = mkdtempSync(join(tmpdir(), "osp-identity-"));
let hooks = 0;

/**
 * An `identity.hook` module answering from `answers` (access key → what `lookupSecret` returns; `throw:` makes
 * it throw that value), counting its calls in `globalThis` under its own name.
 */
function hookModule(answers: Record<string, unknown>): { file: string; calls: () => number } {
  const name = `hook${++hooks}`;
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `const answers = ${JSON.stringify(answers)};
export function lookupSecret(accessKeyId) {
  globalThis.${name} = (globalThis.${name} ?? 0) + 1;
  const answer = answers[accessKeyId];
  if (typeof answer === "string" && answer.startsWith("throw:")) throw JSON.parse(answer.slice(6));
  return answer ?? null;
}
`,
  );
  return { file, calls: () => ((globalThis as Record<string, unknown>)[name] as number | undefined) ?? 0 };
}

const CONFIG_CREDENTIALS = `
credentials:
  - { accessKeyId: CONFIGKEY, secretAccessKey: config-secret-1, principal: carol, groups: [ops] }
`;

test("the config's credentials answer synchronously, frozen, and nothing else", () => {
  const source = createConfigCredentials(testConfig(CONFIG_CREDENTIALS));
  const found = source.lookup("CONFIGKEY") as ClientCredential;
  assert.deepEqual(
    { ...found, principal: { ...found.principal } },
    {
      accessKeyId: "CONFIGKEY",
      secretAccessKey: "config-secret-1",
      principal: { name: "carol", groups: ["ops"] },
    },
  );
  assert.ok(Object.isFrozen(found) && Object.isFrozen(found.principal));
  assert.equal(source.lookup("UNKNOWNKEY"), null);
});

test("sources are asked in order (config, Redis store, hook), and answers from the last two are cached", async () => {
  const secretsKey = randomBytes(32).toString("hex");
  const hook = hookModule({
    HOOKKEY: { secretAccessKey: "hook-secret-1", principal: "dave", groups: ["dev", 7] },
    PLAINKEY: "plain-secret-1",
    STOREDKEY: "hook-secret-2",
    CONFIGKEY: "hook-secret-3",
  });
  const config = testConfig(
    `${CONFIG_CREDENTIALS}identity: { hook: "${hook.file}", secretsKey: "${secretsKey}" }`,
  );
  const cache = redis.cache();
  assert.ok(await cache.waitUntilUp(5_000));
  const store = createCredentialStore(config, cache);
  assert.ok(store !== null);
  await store.add({
    accessKeyId: "STOREDKEY",
    secretAccessKey: "stored-secret-1",
    principal: "erin",
    groups: [],
  });
  await store.add({
    accessKeyId: "CONFIGKEY",
    secretAccessKey: "shadowed-secret",
    principal: "x",
    groups: [],
  });
  const source = await createCredentialSource(config, cache, silentLogger());

  assert.equal((await source.lookup("CONFIGKEY"))?.secretAccessKey, "config-secret-1");
  assert.equal((await source.lookup("STOREDKEY"))?.principal.name, "erin");
  const hooked = await source.lookup("HOOKKEY");
  assert.equal(hooked?.secretAccessKey, "hook-secret-1");
  assert.deepEqual(hooked?.principal, { name: "dave", groups: ["dev"] });
  assert.deepEqual((await source.lookup("PLAINKEY"))?.principal, { name: "PLAINKEY", groups: [] });
  assert.equal(await source.lookup("NOBODYKEY"), null);
  assert.equal(hook.calls(), 3, "HOOKKEY, PLAINKEY and NOBODYKEY");

  // Cached in this worker's L1: answered synchronously, the hook not asked again (unknown keys too).
  const again = source.lookup("HOOKKEY");
  assert.ok(!(again instanceof Promise), "a cached credential is a value");
  assert.equal((again as ClientCredential | null)?.secretAccessKey, "hook-secret-1");
  assert.equal(await source.lookup("NOBODYKEY"), null);
  assert.equal(hook.calls(), 3);

  // `osp credentials remove` reaches the cache at once: the key now falls through to the hook.
  await store.remove("STOREDKEY");
  assert.equal((await source.lookup("STOREDKEY"))?.secretAccessKey, "hook-secret-2");
  assert.equal(hook.calls(), 4);
});

test("a key longer than 128 characters is unknown without asking the hook", async () => {
  const long = "K".repeat(129);
  const limit = "L".repeat(128);
  const hook = hookModule({ [long]: "long-secret-1", [limit]: "limit-secret-1" });
  const cache = redis.track(createCache({ l1MaxEntries: 1_000, log: silentLogger() }));
  const source = await createCredentialSource(
    testConfig(`identity: { hook: "${hook.file}" }`),
    cache,
    silentLogger(),
  );
  assert.equal(await source.lookup(long), null);
  assert.equal(hook.calls(), 0);
  assert.equal((await source.lookup(limit))?.secretAccessKey, "limit-secret-1");
  assert.equal(hook.calls(), 1);
});

test("cached credentials hold flat strings of their own, not views into the request or the hook's answer", async () => {
  // The hook answers with slices of a long string, as a hook parsing a JSON or HTTP answer would; the key ids
  // are slices of long Authorization headers, as parsed from requests. V8 keeps a slice's whole parent alive.
  const file = join(dir, "slicing-hook.mjs");
  writeFileSync(
    file,
    `export function lookupSecret(accessKeyId) {
  const answer = "x".repeat(200) + "secret-of-" + accessKeyId + "|principal-" + accessKeyId + "|group-" + accessKeyId;
  const [secret, principal, group] = answer.slice(200).split("|");
  return { secretAccessKey: secret, principal, groups: [group] };
}
`,
  );
  const cache = redis.track(createCache({ l1MaxEntries: 10_000, log: silentLogger() }));
  const source = await createCredentialSource(
    testConfig(`identity: { hook: "${file}" }`),
    cache,
    silentLogger(),
  );
  const count = 300;
  const before = slicedStrings();
  for (let i = 0; i < count; i++) {
    const header = `AWS4-HMAC-SHA256 Credential=SLICEDKEY${String(i).padStart(8, "0")}/20261206/us-east-1/s3/aws4_request, ${"h".repeat(200)}`;
    const keyId = header.slice(28, 45);
    const found = await source.lookup(keyId);
    assert.equal(found?.secretAccessKey, `secret-of-${keyId}`);
    assert.deepEqual(found?.principal, { name: `principal-${keyId}`, groups: [`group-${keyId}`] });
  }
  // Four strings a credential (key, secret, principal, group): as views they would add 1,200 sliced strings.
  const added = slicedStrings() - before;
  assert.ok(added < count / 3, `${added} sliced strings more after ${count} cached credentials`);
});

/** How many sliced strings (views into another string) the heap holds, from a heap snapshot. */
function slicedStrings(): number {
  const snapshot = JSON.parse(
    readFileSync(writeHeapSnapshot(join(dir, `${Date.now()}.heapsnapshot`)), "utf8"),
  ) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
  };
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const sliced = types[0].indexOf("sliced string");
  const typeField = fields.indexOf("type");
  let n = 0;
  for (let i = typeField; i < snapshot.nodes.length; i += fields.length)
    if (snapshot.nodes[i] === sliced) n++;
  return n;
}

test("a hook that throws anything, or answers nonsense, is a logged 503, never a crash", async () => {
  const hook = hookModule({
    NULLKEY: "throw:null",
    TEXTKEY: 'throw:"no such luck"',
    ODDKEY: { secret: "wrong field" },
  });
  const config = testConfig(`identity: { hook: "${hook.file}" }`);
  const cache = redis.track(createCache({ l1MaxEntries: 100, log: silentLogger() }));
  const log = recordingLogger();
  const source = await createCredentialSource(config, cache, log);
  for (const key of ["NULLKEY", "TEXTKEY", "ODDKEY"]) {
    await assert.rejects(
      Promise.resolve().then(() => source.lookup(key)),
      {
        code: "ServiceUnavailable",
        message: "The identity lookup failed.",
      },
    );
  }
  assert.deepEqual(
    log.lines.map((l) => [l.level, (l.obj as { err?: string }).err ?? null]),
    [
      ["error", "null"],
      ["error", "no such luck"],
      ["error", null],
    ],
  );
  assert.equal(
    log.lines.some((l) => JSON.stringify(l).includes("wrong field")),
    false,
    "what a hook returned is never logged",
  );
});

test("with Redis down, a stored key is a 503 when no hook can answer, and the hook's answer when one can", async () => {
  const own = await startRedis();
  const secretsKey = randomBytes(32).toString("hex");
  const cache = redis.cache(own.url);
  assert.ok(await cache.waitUntilUp(5_000));
  await own.kill();
  const withoutHook = await createCredentialSource(
    testConfig(`identity: { secretsKey: "${secretsKey}" }`),
    cache,
    silentLogger(),
  );
  await assert.rejects(
    Promise.resolve().then(() => withoutHook.lookup("STOREDKEY")),
    {
      code: "ServiceUnavailable",
      message: "The credential store is unavailable.",
    },
  );
  const hook = hookModule({ STOREDKEY: "from-the-hook-1" });
  const otherCache = redis.cache(own.url);
  const withHook = await createCredentialSource(
    testConfig(`identity: { hook: "${hook.file}", secretsKey: "${secretsKey}" }`),
    otherCache,
    silentLogger(),
  );
  assert.equal((await withHook.lookup("STOREDKEY"))?.secretAccessKey, "from-the-hook-1");
});
