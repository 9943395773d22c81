import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyBucketTemplate,
  bucketGlobsOverlap,
  ConfigError,
  compileConfig,
  globLiteralPrefix,
  matchBucketGlob,
  parseBucketTemplate,
  reverseBucketTemplate,
} from "../src/index.js";

function configWith(buckets: string): string {
  return `
endpoints:
  a: { url: "http://127.0.0.1:9000", auth: { type: hmac, accessKeyId: up, secretAccessKey: upsecret } }
  b: { url: "http://127.0.0.1:9001", auth: { type: hmac, accessKeyId: up, secretAccessKey: upsecret } }
buckets:
${buckets}
`;
}

function problemsOf(buckets: string): Array<[string, string]> {
  try {
    compileConfig(configWith(buckets), "t.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => [p.path, p.message]);
  }
  assert.fail("config was accepted");
}

test("matches globs with * and ? as bucket names are matched", () => {
  const cases: Array<[string, string, boolean]> = [
    ["team-a-*", "team-a-x", true],
    ["team-a-*", "team-a-", true],
    ["team-a-*", "team-b-x", false],
    ["logs-??", "logs-01", true],
    ["logs-??", "logs-1", false],
    ["logs-??", "logs-001", false],
    ["*", "anything", true],
    ["*-archive", "x-archive", true],
    ["*-archive", "x-archive2", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
    ["exact", "exact", true],
    ["exact", "exactly", false],
  ];
  for (const [glob, name, expected] of cases)
    assert.equal(matchBucketGlob(glob, name), expected, `${glob} ${name}`);
});

test("matches a hostile glob against a long name in linear-ish time", () => {
  const glob = `${"a*".repeat(30)}b`;
  const name = "a".repeat(63);
  const started = performance.now();
  for (let i = 0; i < 1000; i++) assert.equal(matchBucketGlob(glob, name), false);
  assert.ok(performance.now() - started < 1000);
});

test("tells whether two globs can match one name", () => {
  assert.equal(bucketGlobsOverlap("team-*", "team-a*"), true);
  assert.equal(bucketGlobsOverlap("team-a*", "team-b*"), false);
  assert.equal(bucketGlobsOverlap("logs-??", "logs-1"), false);
  assert.equal(bucketGlobsOverlap("logs-??", "logs-1?"), true);
  assert.equal(bucketGlobsOverlap("a*c", "a*d"), false);
  assert.equal(bucketGlobsOverlap("*x", "y*"), true);
  assert.equal(bucketGlobsOverlap("data", "data"), true);
  assert.equal(bucketGlobsOverlap("data", "date"), false);
  assert.equal(bucketGlobsOverlap("up-*", "up-data"), true);
});

test("parses, applies and reverses upstreamBucket templates", () => {
  const t = parseBucketTemplate("prod-{bucket}-eu");
  assert.deepEqual(t, { prefix: "prod-", suffix: "-eu", placeholder: true });
  if (typeof t === "string") return;
  assert.equal(applyBucketTemplate(t, "data"), "prod-data-eu");
  assert.equal(reverseBucketTemplate(t, "prod-data-eu"), "data");
  assert.equal(reverseBucketTemplate(t, "prod-data"), null);
  assert.equal(reverseBucketTemplate(t, "prod--eu"), null);
  assert.deepEqual(parseBucketTemplate("fixed"), { prefix: "fixed", suffix: "", placeholder: false });
  assert.match(String(parseBucketTemplate("{bucket}-{bucket}")), /once/);
  assert.match(String(parseBucketTemplate("Prod-{bucket}")), /only a-z/);
  assert.match(String(parseBucketTemplate("{buckets}")), /only a-z/);
  assert.equal(globLiteralPrefix("team-a-*"), "team-a-");
  assert.equal(globLiteralPrefix("logs-??"), "logs-");
});

test("accepts glob keys, a default and templates", () => {
  const config = compileConfig(
    configWith(`
  data: { endpoint: a }
  renamed: { endpoint: a, upstreamBucket: "prod-{bucket}" }
  "team-a-*": { endpoint: b, instance: crn-1 }
  "logs-??": { endpoint: a, upstreamBucket: "archive-{bucket}" }
  "*": { endpoint: a }
  "team-*": { endpoint: b, upstreamBucket: "{bucket}" }`),
    "t.yaml",
    {},
  );
  assert.equal(config.buckets["team-a-*"]?.endpoint, "b");
  assert.equal(config.cache.listBucketsTtl, 5_000);
});

test("refuses a glob whose upstreamBucket has no {bucket}: every match would reach one bucket", () => {
  const problems = problemsOf(`  "team-*": { endpoint: a, upstreamBucket: shared }`);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]![0], "buckets.team-*.upstreamBucket");
  assert.match(problems[0]![1], /needs \{bucket\}.*not reversible/);
});

test("refuses templates with {bucket} twice or other characters, and exact names they make invalid", () => {
  const problems = problemsOf(`
  one: { endpoint: a, upstreamBucket: "{bucket}-{bucket}" }
  two: { endpoint: a, upstreamBucket: "UP-{bucket}" }
  three: { endpoint: a, upstreamBucket: "{bucket}-" }`);
  assert.deepEqual(
    problems.map(([path]) => path),
    ["buckets.one.upstreamBucket", "buckets.two.upstreamBucket", "buckets.three.upstreamBucket"],
  );
  assert.match(problems[2]![1], /not a valid S3 bucket name/);
});

test("refuses invalid keys, exact and glob", () => {
  const problems = problemsOf(`
  Bad_Name: { endpoint: a }
  "bad[*]": { endpoint: a }`);
  assert.deepEqual(
    problems.map(([path, message]) => [path, message.split(" (")[0]]),
    [
      ["buckets.Bad_Name", "is not a valid S3 bucket name"],
      ["buckets.bad[*]", "is not a valid bucket glob"],
    ],
  );
});

test("refuses two globs that match one name with equally long literal prefixes (ambiguous)", () => {
  const problems = problemsOf(`
  "team-*": { endpoint: a }
  "team-?x": { endpoint: b }
  "logs-a*": { endpoint: a }
  "logs-b*": { endpoint: b }`);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]![0], "buckets.team-?x");
  assert.match(problems[0]![1], /"team-\*" matches too.*ambiguous/);
});

test("refuses two exact names that reach one upstream bucket on one endpoint (irreversible)", () => {
  const problems = problemsOf(`
  first: { endpoint: a, upstreamBucket: shared }
  second: { endpoint: a, upstreamBucket: shared }
  third: { endpoint: b, upstreamBucket: shared }
  shared: { endpoint: b }`);
  assert.deepEqual(
    problems.map(([path]) => path),
    ["buckets.second", "buckets.shared"],
  );
  assert.match(problems[0]![1], /reaches upstream bucket "shared" on endpoint a, as "first" does/);
});
