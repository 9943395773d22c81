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

/** The rules (YAML list items) over one bucket `data`, compiled. */
function rulesFor(items: string) {
  const yaml = `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { data: { endpoint: e } }
authorization:
  rules:${items}
`;
  return compileRules(compileConfig(yaml, "t", {}));
}

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

test("a prefix-limited rule does not decide requests that name no key the way it decides keys", () => {
  const rules = rulesFor(`
    - { principal: bob, buckets: [data], prefixes: [public/], actions: [read, delete, list, admin] }
    - { principal: alice, buckets: [data], actions: ["*"] }
    - { effect: deny, principal: alice, buckets: [data], prefixes: [secret/], actions: ["*"] }`);
  const bucketLevel = (name: string, action: AuthzFacts["action"], operation: string) =>
    facts({ principal: { name, groups: [] }, action, operation, key: null, listPrefix: null });
  // DeleteObjects carries its keys in the body: a delete limited to public/ cannot cover them.
  assert.equal(rules(bucketLevel("bob", "delete", "DeleteObjects")), false);
  assert.equal(rules(bucketLevel("bob", "admin", "PutBucketPolicy")), false);
  assert.equal(rules(bucketLevel("bob", "list", "HeadBucket")), true);
  // A deny limited to secret/ refuses what might touch secret/, not the probes that reveal no key.
  assert.equal(rules(bucketLevel("alice", "delete", "DeleteObjects")), false);
  assert.equal(rules(bucketLevel("alice", "list", "HeadBucket")), true);
  assert.equal(
    rules(facts({ principal: { name: "alice", groups: [] }, action: "delete", key: "public/x" })),
    true,
  );
});

test("a deny limited to a prefix refuses every listing that could show a name under it", () => {
  const rules = rulesFor(`
    - { principal: dave, buckets: [data], actions: [read, write, delete, list] }
    - { effect: deny, principal: dave, buckets: [data], prefixes: [secret/], actions: ["*"] }`);
  const listing = (listPrefix: string) =>
    rules(
      facts({
        principal: { name: "dave", groups: [] },
        action: "list",
        operation: "ListObjectsV2",
        key: null,
        listPrefix,
      }),
    );
  for (const prefix of ["", "s", "secre", "secret", "secret/", "secret/a"])
    assert.equal(listing(prefix), false, prefix);
  for (const prefix of ["public/", "t", "secrets", "a"]) assert.equal(listing(prefix), true, prefix);
});
