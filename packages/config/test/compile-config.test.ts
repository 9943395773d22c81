import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, compileConfig } from "../src/index.js";

const minimal = `
endpoints:
  local:
    url: http://127.0.0.1:9000
    auth: { type: hmac, accessKeyId: up, secretAccessKey: "\${UP_SECRET}" }
buckets:
  data: { endpoint: local, upstreamBucket: data-prod }
credentials:
  - { accessKeyId: MYLOCAL123, secretAccessKey: "\${OSP_SECRET}", principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["data"], actions: [read, list] }
`;

function problemsOf(text: string, env: Record<string, string> = {}): Array<[string, string]> {
  try {
    compileConfig(text, "t.yaml", env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => [p.path, p.message]);
  }
  assert.fail("config was accepted");
}

test("fills documented defaults and interpolates secrets from the environment", () => {
  const c = compileConfig(minimal, "t.yaml", { UP_SECRET: "upsecret", OSP_SECRET: "clientsecret" });
  assert.equal(c.listen.port, 6190);
  assert.equal(c.listen.host, "0.0.0.0");
  assert.equal(c.endpoints["local"]?.auth.type, "hmac");
  assert.equal(c.endpoints["local"]?.pool.connections, 128);
  assert.equal(c.endpoints["local"]?.pool.headersTimeout, 30_000);
  assert.equal(c.auth.maxSkew, 900_000);
  assert.equal(c.credentials[0]?.secretAccessKey, "clientsecret");
  assert.equal(c.addressing.plusInPathIsSpace, true);
  assert.ok(Object.isFrozen(c.endpoints["local"]));
});

test("reports every problem at once with its key path", () => {
  const problems = problemsOf(
    `
listen: { port: 70000, hots: x }
endpoints:
  local: { url: "ftp://x", auth: { type: hmac, accessKeyId: a } }
buckets:
  Bad_Name: { endpoint: nowhere }
credentials:
  - { accessKeyId: k1, secretAccessKey: "\${MISSING}", principal: bob }
`,
  );
  const paths = problems.map(([p]) => p);
  assert.ok(paths.includes("listen.port"), JSON.stringify(problems));
  assert.ok(paths.includes("listen.hots"));
  assert.ok(paths.includes("endpoints.local.url"));
  assert.ok(paths.includes("endpoints.local.auth.secretAccessKey"));
  assert.ok(paths.includes("credentials[0].secretAccessKey"));
  const unknown = problems.find(([p]) => p === "listen.hots");
  assert.match(unknown![1], /did you mean "host"/);
});

test("rejects a bucket that names an unknown endpoint, with a suggestion", () => {
  const problems = problemsOf(minimal.replace("endpoint: local", "endpoint: locl"), {
    UP_SECRET: "upsecret",
    OSP_SECRET: "clientsecret",
  });
  assert.deepEqual(
    problems.map(([p]) => p),
    ["buckets.data.endpoint"],
  );
  assert.match(problems[0]![1], /did you mean "local"/);
});

test("rejects an unparseable duration", () => {
  const problems = problemsOf(
    `${minimal}
auth: { maxSkew: soon }
`.replace(
      "principal: alice }",
      "principal: alice }\n  - { accessKeyId: MYLOCAL123, secretAccessKey: abcdefghij, principal: bob }",
    ),
    { UP_SECRET: "upsecret", OSP_SECRET: "clientsecret" },
  );
  const paths = problems.map(([p]) => p);
  assert.ok(paths.includes("auth.maxSkew"), JSON.stringify(problems));
});

test("names a YAML syntax error instead of crashing", () => {
  const problems = problemsOf("listen: { port: 1\nendpoints: [");
  assert.match(problems[0]![1], /^YAML:/);
});

test("accepts the annotated example in deploy/config with its variables set", async () => {
  const { loadConfigFile } = await import("../src/index.js");
  const { fileURLToPath } = await import("node:url");
  const file = fileURLToPath(new URL("../../../../deploy/config/osp.example.yaml", import.meta.url));
  const c = loadConfigFile(file, { COS_API_KEY: "k", UP_AK: "a", UP_SK: "s", OSP_SECRET_1: "secret-one" });
  assert.equal(c.endpoints["ibm-eu-de"]?.auth.type, "iam");
  assert.equal(c.buckets["data"]?.upstreamBucket, "data-prod");
});

test("rejects two credentials with the same access key", () => {
  const problems = problemsOf(
    minimal.replace(
      "principal: alice }",
      "principal: alice }\n  - { accessKeyId: MYLOCAL123, secretAccessKey: abcdefghij, principal: bob }",
    ),
    { UP_SECRET: "upsecret", OSP_SECRET: "clientsecret" },
  );
  assert.deepEqual(problems, [["credentials[1].accessKeyId", "duplicates credentials[0]"]]);
});

test("the annotated example names every key of the schema (commented or not)", async () => {
  const { readFileSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  const { configKeyPaths } = await import("../src/index.js");
  const text = readFileSync(
    fileURLToPath(new URL("../../../../deploy/config/osp.example.yaml", import.meta.url)),
    "utf8",
  );
  const missing = configKeyPaths().filter((path) => {
    const key = path
      .split(/[.[\]*]+/)
      .filter((p) => p !== "")
      .at(-1)!;
    return !new RegExp(`(^|[\\s{,#])${key}:`, "m").test(text);
  });
  assert.deepEqual(missing, []);
});

test("an endpoint's caFile must hold a certificate: checked at load, every problem named", async () => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "osp-cafile-"));
  const notPem = join(dir, "not.pem");
  writeFileSync(notPem, "hello, I am no certificate\n");
  const good = join(dir, "ca.pem");
  writeFileSync(
    good,
    // The upstream package's test CA (packages/upstream/test/fixtures), from this test's dist/test folder.
    readFileSync(join(import.meta.dirname, "../../../upstream/test/fixtures/ca.pem")),
  );
  const withCa = (file: string) =>
    minimal.replace(
      "    url: http://127.0.0.1:9000\n",
      `    url: http://127.0.0.1:9000\n    caFile: ${file}\n`,
    );
  const env = { UP_SECRET: "upsecret", OSP_SECRET: "clientsecret" };
  assert.equal(compileConfig(withCa(good), "t.yaml", env).endpoints["local"]?.caFile, good);
  for (const file of [notPem, join(dir, "missing.pem")]) {
    const problems = problemsOf(withCa(file), env);
    assert.deepEqual(
      problems.map(([path]) => path),
      ["endpoints.local.caFile"],
      file,
    );
  }
});
