import assert from "node:assert/strict";
import { test } from "node:test";
import { type Config, compileConfig } from "@osp/config";
import { S3Error } from "@osp/errors";
import { ANONYMOUS, anonymousAllowed, checkAnonymousRequest } from "../src/identity/anonymous.js";
import { type AuthzFacts, compileRules } from "../src/index.js";

function configWith(rules: string): Config {
  return compileConfig(
    `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { data: { endpoint: e }, other: { endpoint: e } }
authorization:
  rules:${rules}
`,
    "t",
    {},
  );
}

const facts = (over: Partial<AuthzFacts>): AuthzFacts => ({
  principal: ANONYMOUS,
  accessKeyId: "",
  action: "read",
  operation: "GetObject",
  bucket: "data",
  key: "public/a.txt",
  listPrefix: null,
  method: "GET",
  sourceIp: "127.0.0.1",
  presigned: false,
  ...over,
});

test("unsigned requests stay refused unless an allow rule names anonymous", () => {
  assert.equal(
    anonymousAllowed(configWith(`\n    - { principal: "*", buckets: [data], actions: [read] }`)),
    false,
  );
  assert.equal(
    anonymousAllowed(
      configWith(`\n    - { effect: deny, principal: anonymous, buckets: [data], actions: [read] }`),
    ),
    false,
  );
  assert.equal(
    anonymousAllowed(
      configWith(`\n    - { principals: [bob, anonymous], buckets: [data], actions: [read] }`),
    ),
    true,
  );
});

test("grants anonymous only what a rule naming it grants, under its prefixes", () => {
  const rules = compileRules(
    configWith(`
    - { principal: anonymous, buckets: [data], prefixes: [public/], actions: [read, list] }
    - { principal: "*", buckets: [other], actions: [read] }`),
  );
  assert.equal(rules(facts({})), true);
  assert.equal(rules(facts({ key: "private/a.txt" })), false);
  assert.equal(
    rules(facts({ action: "list", operation: "ListObjectsV2", key: null, listPrefix: "public/" })),
    true,
  );
  assert.equal(
    rules(facts({ action: "list", operation: "ListObjectsV2", key: null, listPrefix: "" })),
    false,
  );
  // principal "*" means every signed principal, not unsigned requests.
  assert.equal(rules(facts({ bucket: "other" })), false);
  assert.equal(rules(facts({ bucket: "other", principal: { name: "bob", groups: [] } })), true);
});

test("a signed principal called anonymous does not get anonymous grants", () => {
  const rules = compileRules(
    configWith(`\n    - { principal: anonymous, buckets: [data], actions: [read, list] }`),
  );
  assert.equal(rules(facts({ principal: { name: "anonymous", groups: [] }, accessKeyId: "AK" })), false);
});

test("a deny for everyone refuses anonymous too", () => {
  const rules = compileRules(
    configWith(`
    - { principal: anonymous, buckets: [data], actions: [read, list] }
    - { effect: deny, principal: "*", buckets: [data], prefixes: [secret/], actions: ["*"] }`),
  );
  assert.equal(rules(facts({ key: "a" })), true);
  assert.equal(rules(facts({ key: "secret/a" })), false);
});

test("the config refuses a rule granting anonymous more than read and list, and the principal name", () => {
  for (const actions of ["[write]", "[read, delete]", "[admin]", '["*"]']) {
    assert.throws(
      () => configWith(`\n    - { principal: anonymous, buckets: [data], actions: ${actions} }`),
      /authorization\.rules\[0\]\.actions: grants .* to anonymous; unsigned requests may only be granted read and list/,
      actions,
    );
  }
  assert.throws(
    () =>
      compileConfig(
        `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { data: { endpoint: e } }
credentials: [{ accessKeyId: AKANON, secretAccessKey: secret-secret, principal: anonymous }]
`,
        "t",
        {},
      ),
    /credentials\[0\]\.principal: "anonymous" is reserved/,
  );
  // A deny naming anonymous may cover any action.
  configWith(`\n    - { effect: deny, principal: anonymous, buckets: [data], actions: ["*"] }`);
});

test("refuses anonymous operations beyond reading objects and listing them, and any body", () => {
  for (const op of [
    "GetObject",
    "HeadObject",
    "ListObjects",
    "ListObjectsV2",
    "HeadBucket",
    "GetBucketLocation",
  ]) {
    checkAnonymousRequest(op, false);
  }
  for (const op of [
    "PutObject",
    "DeleteObject",
    "GetObjectAcl",
    "ListBuckets",
    "ListMultipartUploads",
    "Options",
  ]) {
    assert.throws(
      () => checkAnonymousRequest(op, false),
      (e: unknown) => e instanceof S3Error && e.status === 403,
    );
  }
  assert.throws(() => checkAnonymousRequest("GetObject", true), /may not carry a body/);
});
