import assert from "node:assert/strict";
import { test } from "node:test";
import { compileConfig } from "@osp/config";
import { type AuthzFacts, compileRules } from "../src/index.js";

const config = compileConfig(
  `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { data: { endpoint: e }, logs-2025: { endpoint: e } }
authorization:
  rules:
    - { principal: alice, buckets: ["*"], actions: ["*"] }
    - { effect: deny, principal: alice, buckets: [data], prefixes: [secret/], actions: [read] }
    - { groups: [analysts], buckets: ["logs-*"], actions: [read, list] }
    - { principals: [bob, carol], buckets: [data], prefixes: [public/], actions: [read, list] }
`,
  "t",
  {},
);
const authorize = compileRules(config);
const facts = (over: Partial<AuthzFacts>): AuthzFacts => ({
  principal: { name: "alice", groups: [] },
  accessKeyId: "AKALICE",
  action: "read",
  operation: "GetObject",
  bucket: "data",
  key: "a.txt",
  listPrefix: null,
  method: "GET",
  sourceIp: "127.0.0.1",
  presigned: false,
  ...over,
});

test("allows what an allow rule covers and denies everything else", () => {
  assert.equal(authorize(facts({})), true);
  assert.equal(authorize(facts({ principal: { name: "mallory", groups: [] } })), false);
});

test("lets a deny rule win over a broader allow", () => {
  assert.equal(authorize(facts({ key: "secret/plan.txt" })), false);
  assert.equal(authorize(facts({ key: "secret/plan.txt", action: "write" })), true);
});

test("matches groups and bucket globs", () => {
  const analyst = { name: "dave", groups: ["analysts"] };
  assert.equal(authorize(facts({ principal: analyst, bucket: "logs-2025" })), true);
  assert.equal(authorize(facts({ principal: analyst, bucket: "logs-2025", action: "write" })), false);
  assert.equal(authorize(facts({ principal: analyst, bucket: "data" })), false);
});

test("holds listings to the allowed prefixes", () => {
  const bob = { name: "bob", groups: [] };
  assert.equal(authorize(facts({ principal: bob, key: "public/x" })), true);
  assert.equal(authorize(facts({ principal: bob, key: "private/x" })), false);
  const list = { principal: bob, action: "list" as const, operation: "ListObjectsV2", key: null };
  assert.equal(authorize(facts({ ...list, listPrefix: "public/2025" })), true);
  assert.equal(authorize(facts({ ...list, listPrefix: "" })), false);
  assert.equal(authorize(facts({ ...list, operation: "HeadBucket", listPrefix: null })), true);
});
