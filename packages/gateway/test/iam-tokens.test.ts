import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Cache } from "@osp/cache";
import { type FakeIamServer, type RedisServer, startFakeIamServer, startRedis } from "@osp/testkit";
import { UpstreamPools } from "@osp/upstream";
import { gatewayNamespaces } from "../src/cache-namespaces.js";
import { createIamTokenRegistry, type IamTokensFor } from "../src/upstream/iam-tokens.js";
import { redisCache, silentLogger, testConfig, uniquePrefix } from "./helpers.js";

const API_KEY = "osp-test-api-key";
let redis: RedisServer;
let iam: FakeIamServer;
const closers: Array<() => Promise<void>> = [];
before(async () => {
  redis = await startRedis();
  iam = await startFakeIamServer({ validApiKeys: [API_KEY, "other-api-key"] });
});
after(async () => {
  for (const close of closers) await close();
  await iam.close();
  await redis.stop();
});

/** One worker's token registry: its own pools and cache, on the Redis (and key prefix) of `prefix`. */
async function worker(prefix: string): Promise<{ tokensFor: IamTokensFor; cache: Cache }> {
  const cache = redisCache(redis.url, prefix);
  const pools = new UpstreamPools();
  closers.push(
    () => pools.close(),
    () => cache.close(),
  );
  assert.ok(await cache.waitUntilUp(5_000));
  const namespace = gatewayNamespaces(cache, testConfig()).iam;
  return { tokensFor: createIamTokenRegistry(namespace, pools, silentLogger()), cache };
}

test("requests of one worker share one token source and one IAM request", async () => {
  const { tokensFor } = await worker(uniquePrefix());
  const issued = iam.stats.tokensIssued;
  const tokens = tokensFor(iam.url, API_KEY);
  assert.equal(tokensFor(iam.url, API_KEY), tokens, "one source per (IAM URL, API key)");
  assert.notEqual(tokensFor(iam.url, "other-api-key"), tokens);
  const [a, b] = await Promise.all([tokens.getToken(), tokens.getToken()]);
  assert.equal(a, b);
  assert.ok(iam.isValidToken(a));
  assert.equal(iam.stats.tokensIssued, issued + 1, "two requests, one token fetch");
  assert.equal(tokens.getToken(), a, "a cached token is a value, not a promise");
});

test("workers sharing Redis share the token: one IAM request for the cluster", async () => {
  const prefix = uniquePrefix();
  const [one, two] = await Promise.all([worker(prefix), worker(prefix)]);
  const issued = iam.stats.tokensIssued;
  const [a, b] = await Promise.all([
    one.tokensFor(iam.url, API_KEY).getToken(),
    two.tokensFor(iam.url, API_KEY).getToken(),
  ]);
  assert.equal(a, b);
  assert.equal(iam.stats.tokensIssued, issued + 1);
});

test("a refused token is dropped once: the next request fetches a fresh one, a second drop waits", async () => {
  const prefix = uniquePrefix();
  const { tokensFor } = await worker(prefix);
  const tokens = tokensFor(iam.url, API_KEY);
  const first = await tokens.getToken();
  const issued = iam.stats.tokensIssued;

  assert.equal(tokens.invalidate(first), true, "dropped: a retry with a fresh token can help");
  const second = await tokens.getToken();
  assert.notEqual(second, first);
  assert.equal(iam.stats.tokensIssued, issued + 1);

  // A late refusal of the old token: a newer one replaced it already, nothing to drop or fetch.
  assert.equal(tokens.invalidate(first), true);
  assert.equal(await tokens.getToken(), second);

  // Refusals of the current token within a minute are about something else (a retention lock, a policy):
  // the token stays, so a store's 403s cannot spend the cluster's token budget.
  assert.equal(tokens.invalidate(second), false);
  assert.equal(await tokens.getToken(), second);
  assert.equal(iam.stats.tokensIssued, issued + 1);

  // The drop reached Redis: another worker on the same Redis does not get the dropped token back.
  const other = await worker(prefix);
  assert.equal(await other.tokensFor(iam.url, API_KEY).getToken(), second);
});
