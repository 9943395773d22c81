import assert from "node:assert/strict";
import { test } from "node:test";
import { createCache } from "@osp/cache";
import { dropStalePolicyEntries, gatewayNamespaces } from "../src/cache-namespaces.js";
import { recordingLogger, silentLogger, testConfig } from "./helpers.js";

test("a reload with another policy drops cached decisions and identities, keeps IAM tokens", async () => {
  const cache = createCache({ l1MaxEntries: 100, log: silentLogger() });
  const log = recordingLogger();
  const before = testConfig(
    "authorization: { rules: [{ principal: alice, buckets: [data], actions: [read] }] }",
  );
  const namespaces = gatewayNamespaces(cache, before);
  await namespaces.authz.set("decision", true);
  await namespaces.iam.set("token", { accessToken: "t", expiresAtMs: Date.now() + 60_000 });

  // The same policy (a reload that changed something else): nothing is dropped.
  dropStalePolicyEntries(cache, testConfig(`authorization: ${JSON.stringify(before.authorization)}`), log);
  assert.equal(namespaces.authz.peek("decision"), true);

  dropStalePolicyEntries(
    cache,
    testConfig("authorization: { rules: [{ principal: alice, buckets: [data], actions: [read, write] }] }"),
    log,
  );
  assert.equal(namespaces.authz.peek("decision"), undefined);
  assert.equal(namespaces.iam.peek("token")?.accessToken, "t");
  assert.equal(gatewayNamespaces(cache, before), namespaces, "one set of namespaces per cache");
  assert.deepEqual(log.lines, []);
  await cache.close();
});
