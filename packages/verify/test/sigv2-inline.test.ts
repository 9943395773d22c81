/**
 * SigV2 requests are verified inline in every mode (README.md): a value, never a promise, with sigv4's own
 * `verifySignatureV2` verdict and an empty signing key, even in pool mode with a thread waiting.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, test } from "node:test";
import { type AuthenticatedRequest, authenticateRequest, SigningKeyCache } from "@osp/sigv4";
import { createVerifyPool, type VerifyPool } from "../src/index.js";

const SECRET = "sigv2-secret";
const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const DATE = new Date(NOW_MS).toUTCString();
const signature = createHmac("sha1", SECRET).update(`GET\n\n\n${DATE}\n/b/k`).digest("base64");

const auth = authenticateRequest(
  {
    method: "GET",
    rawPath: "/b/k",
    rawQuery: "",
    headers: [
      ["host", "h"],
      ["date", DATE],
      ["authorization", `AWS AKV2:${signature}`],
    ],
  },
  { sigV2: true, nowMs: NOW_MS },
) as AuthenticatedRequest;

const pools: VerifyPool[] = [
  createVerifyPool({ mode: "inline", threads: 0 }),
  createVerifyPool({ mode: "pool", threads: 1 }),
];
after(() => Promise.all(pools.map((p) => p.close())));

test("a SigV2 request is verified inline whatever the mode, with an empty signing key", {
  timeout: 30_000,
}, () => {
  assert.equal(auth.signatureVersion, 2);
  for (const pool of pools) {
    const good = pool.verifyRequest(auth, SECRET, new SigningKeyCache());
    assert.ok(!(good instanceof Promise), `${pool.mode}: a value, not a promise`);
    assert.equal(good.failure, null);
    assert.equal(good.signingKey.length, 0);
    const bad = pool.verifyRequest(auth, "another-secret", new SigningKeyCache());
    assert.ok(!(bad instanceof Promise));
    assert.equal(bad.failure?.code, "SignatureDoesNotMatch");
  }
});
