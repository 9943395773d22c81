import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import type { Cache } from "@osp/cache";
import { CredentialStore, parseSecretsKey } from "../src/identity/credential-store.js";
import { redisCache, redisForFile, uniquePrefix } from "./helpers.js";

const redis = redisForFile();

/** A store on a fresh prefix of the test's Redis, and the cache it writes through. */
async function storeWith(
  key: Buffer,
  prefix = uniquePrefix(),
): Promise<{ store: CredentialStore; cache: Cache }> {
  const cache = redis.track(redisCache(redis.url, prefix));
  assert.ok(await cache.waitUntilUp(5_000), "redis is up");
  // `onChange` drops the key from the workers' credential caches: none here.
  const store = new CredentialStore(cache, key, async () => {});
  return { store, cache };
}

const ALICE = {
  accessKeyId: "ALICEKEY",
  secretAccessKey: "alice-secret-1234",
  principal: "alice",
  groups: ["ops"],
};

test("a credential goes in sealed and comes back whole; list never shows a secret", async () => {
  const key = randomBytes(32);
  const { store, cache } = await storeWith(key);
  await store.add(ALICE);
  const found = await store.lookup("ALICEKEY");
  assert.equal(found?.secretAccessKey, ALICE.secretAccessKey);
  assert.equal(found?.principal, "alice");
  assert.deepEqual(found?.groups, ["ops"]);
  const raw = await cache.hashGet("credentials", "ALICEKEY");
  assert.ok(raw !== null && !raw.includes(ALICE.secretAccessKey), "Redis holds no clear secret");
  const listed = await store.list();
  assert.deepEqual(
    listed.map((c) => ({ ...c, createdAt: "" })),
    [{ accessKeyId: "ALICEKEY", principal: "alice", groups: ["ops"], createdAt: "" }],
  );
  assert.equal(JSON.stringify(listed).includes(ALICE.secretAccessKey), false);
  assert.equal(await store.remove("ALICEKEY"), true);
  assert.equal(await store.lookup("ALICEKEY"), null);
  assert.equal(await store.remove("ALICEKEY"), false);
});

test("a tampered ciphertext is refused, never decrypted to something else", async () => {
  const { store, cache } = await storeWith(randomBytes(32));
  await store.add(ALICE);
  const record = JSON.parse((await cache.hashGet("credentials", "ALICEKEY"))!) as { secret: string };
  const sealed = Buffer.from(record.secret, "base64");
  sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
  await cache.hashSet(
    "credentials",
    "ALICEKEY",
    JSON.stringify({ ...record, secret: sealed.toString("base64") }),
  );
  await assert.rejects(store.lookup("ALICEKEY"), /ALICEKEY cannot be decrypted with identity.secretsKey/);
});

test("a record moved to another access key is refused: the access key is authenticated data", async () => {
  const { store, cache } = await storeWith(randomBytes(32));
  await store.add(ALICE);
  await cache.hashSet("credentials", "MALLORYKEY", (await cache.hashGet("credentials", "ALICEKEY"))!);
  await assert.rejects(store.lookup("MALLORYKEY"), /cannot be decrypted/);
});

test("a store opened with another key cannot read the secrets", async () => {
  const prefix = uniquePrefix();
  const { store } = await storeWith(randomBytes(32), prefix);
  await store.add(ALICE);
  const { store: other } = await storeWith(randomBytes(32), prefix);
  await assert.rejects(other.lookup("ALICEKEY"), /cannot be decrypted/);
  assert.equal((await other.list()).length, 1, "the records are there, only their secrets are sealed");
});

test("identity.secretsKey is 32 bytes as hex or base64; anything else is refused without echoing it", () => {
  const key = randomBytes(32);
  assert.deepEqual(parseSecretsKey(key.toString("hex")), key);
  assert.deepEqual(parseSecretsKey(` ${key.toString("base64")}\n`), key);
  const short = randomBytes(16).toString("hex");
  assert.throws(
    () => parseSecretsKey(short),
    (err: unknown) => err instanceof TypeError && !err.message.includes(short),
  );
});
