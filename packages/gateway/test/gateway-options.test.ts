import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileConfig } from "@osp/config";
import { DEFAULT_ORIGIN_OPTIONS } from "@osp/upstream";
import { resolveGatewayOptions } from "../src/worker/gateway-options.js";

/** The upstream package's test CA, from this test's dist/test folder. */
const CA_FILE = join(import.meta.dirname, "../../../upstream/test/fixtures/ca.pem");

const config = compileConfig(
  `
limits: { requestTimeout: 2m, idleTimeout: 45s }
cache: { listBucketsTtl: 7s }
endpoints:
  tuned:
    url: http://127.0.0.1:9001
    auth: { type: hmac, accessKeyId: a, secretAccessKey: b }
    pool: { connections: 8, connectTimeout: 1s, headersTimeout: 90s, bodyTimeout: 3m }
  plain:
    url: https://store.example:8443
    caFile: ${CA_FILE}
    auth: { type: hmac, accessKeyId: a, secretAccessKey: b }
buckets:
  data: { endpoint: tuned }
`,
  "options-test",
  {},
);

test("each endpoint's origin gets its own resolved pool; every other origin the defaults", () => {
  const options = resolveGatewayOptions(config);
  assert.deepEqual(options.upstreamOrigins.get("http://127.0.0.1:9001"), {
    ...DEFAULT_ORIGIN_OPTIONS,
    connections: 8,
    connectTimeoutMs: 1_000,
    headersTimeoutMs: 90_000,
    bodyTimeoutMs: 180_000,
  });
  assert.deepEqual(options.upstreamOrigins.get("https://store.example:8443"), {
    ...DEFAULT_ORIGIN_OPTIONS,
    caFile: CA_FILE,
  });
  // Not the first endpoint's settings: the webhook's and IAM's origins get the defaults.
  assert.equal(options.upstreamDefaults, DEFAULT_ORIGIN_OPTIONS);
});

test("durations come out in milliseconds under …Ms names, and the options are frozen", () => {
  const options = resolveGatewayOptions(config);
  assert.equal(options.requestTimeoutMs, 120_000);
  assert.equal(options.idleTimeoutMs, 45_000);
  assert.equal(options.listBucketsTtlMs, 7_000);
  assert.equal(options.redisWaitMs, 0);
  assert.equal(options.auth.maxSkewMs, 900_000);
  assert.equal(options.verifyPool.processes, availableParallelism());
  assert.ok(Object.isFrozen(options) && Object.isFrozen(options.addressing) && Object.isFrozen(options.auth));
  assert.throws(() => {
    (options as { maxInFlight: number }).maxInFlight = 1;
  }, TypeError);
});
