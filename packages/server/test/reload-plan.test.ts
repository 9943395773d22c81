import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compileConfig } from "@osp/config";
import { planReload, tlsFingerprint } from "../src/index.js";

function config(extra = "", listen = "listen: { host: 127.0.0.1, port: 6190 }") {
  return compileConfig(
    `${listen}
endpoints:
  local: { url: "http://127.0.0.1:9000", auth: { type: hmac, accessKeyId: a, secretAccessKey: bbbbbbbb } }
buckets:
  data: { endpoint: local }
${extra}`,
    "test",
    {},
  );
}

describe("reload plan", () => {
  test("applies buckets, credentials, rules, logging, limits and worker count in place", () => {
    const next = config(`
  more: { endpoint: local }
credentials:
  - { accessKeyId: NEWKEY123, secretAccessKey: new-secret-123, principal: bob }
authorization: { rules: [{ principal: bob, buckets: [more], actions: [read] }] }
logging: { level: debug }
limits: { maxInFlight: 10 }
workers: 7
metrics: { bucketLabels: [data] }`);
    assert.deepEqual(planReload(config(), next, "", ""), { kind: "in-place", reasons: [] });
  });

  test("replaces workers for what a running worker cannot change", () => {
    const cases: Array<[string, ReturnType<typeof config>]> = [
      ["listen.port", config("", "listen: { host: 127.0.0.1, port: 6191 }")],
      ["listen.host", config("", "listen: { host: 0.0.0.0, port: 6190 }")],
      ["listen.tls", config("", "listen: { host: 127.0.0.1, port: 6190, tls: { cert: c.pem, key: k.pem } }")],
      ["limits.maxHeaderBytes", config("limits: { maxHeaderBytes: 8192 }")],
      ["redis", config("redis: { url: redis://127.0.0.1:6380 }")],
      ["cache", config("cache: { authzTtl: 1m }")],
      ["verify", config("verify: { mode: pool }")],
    ];
    for (const [reason, next] of cases) {
      assert.deepEqual(planReload(config(), next, "", ""), { kind: "rolling", reasons: [reason] }, reason);
    }
  });

  test("treats a certificate renewed under the same file names as a change", () => {
    const dir = mkdtempSync(join(tmpdir(), "osp-plan-"));
    try {
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      const tls = config("", `listen: { host: 127.0.0.1, port: 6190, tls: { cert: ${cert}, key: ${key} } }`);
      writeFileSync(cert, "first certificate");
      writeFileSync(key, "first key");
      const before = tlsFingerprint(tls);
      assert.equal(tlsFingerprint(tls), before, "same files, same fingerprint");
      writeFileSync(cert, "renewed certificate");
      const after = tlsFingerprint(tls);
      assert.notEqual(after, before);
      assert.deepEqual(planReload(tls, tls, before, after), { kind: "rolling", reasons: ["listen.tls"] });
      rmSync(key);
      assert.notEqual(tlsFingerprint(tls), after, "an unreadable key is a change too");
      assert.equal(tlsFingerprint(config()), "", "no TLS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
