import assert from "node:assert/strict";
import { test } from "node:test";
import { type AuthzFactsJson, decisionKey } from "../src/index.js";

const facts: AuthzFactsJson = {
  principal: "alice",
  groups: ["analysts"],
  accessKeyId: "AKALICE",
  action: "read",
  operation: "GetObject",
  bucket: "data",
  key: "a/b.txt",
  listPrefix: null,
  method: "GET",
  sourceIp: "192.0.2.1",
  presigned: false,
};

test("a decision key depends only on the facts named in authorization.cacheKey", () => {
  const keyFacts = ["principal", "action", "bucket"] as const;
  const a = decisionKey(facts, keyFacts);
  assert.equal(decisionKey({ ...facts, key: "other.txt", sourceIp: "198.51.100.1" }, keyFacts), a);
  assert.notEqual(decisionKey({ ...facts, bucket: "logs" }, keyFacts), a);
  assert.notEqual(decisionKey({ ...facts, principal: "bob" }, keyFacts), a);
});

test("the default key (every fact) separates requests for different object keys", () => {
  const all = Object.keys(facts) as Array<keyof AuthzFactsJson>;
  assert.notEqual(decisionKey(facts, all), decisionKey({ ...facts, key: "a/c.txt" }, all));
});

test("a key holds no fact in the clear", () => {
  const key = decisionKey(facts, ["principal", "key"]);
  assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!key.includes("alice"));
});

test("fields cannot run into each other: (ab, c) and (a, bc) differ", () => {
  const k1 = decisionKey({ ...facts, bucket: "ab", key: "c" }, ["bucket", "key"]);
  const k2 = decisionKey({ ...facts, bucket: "a", key: "bc" }, ["bucket", "key"]);
  assert.notEqual(k1, k2);
});
