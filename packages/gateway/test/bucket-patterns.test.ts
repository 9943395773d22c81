import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { compileConfig } from "@osp/config";
import { createLogger } from "@osp/log";
import { SigningKeyCache } from "@osp/sigv4";
import { UpstreamPools } from "@osp/upstream";
import { LIST_BUCKETS_FAILURE_CHANNEL } from "../src/index.js";
import { BucketListings } from "../src/routing/bucket-listings.js";
import { clientBucketName, resolveRoute } from "../src/routing/bucket-patterns.js";
import { compileRoutes, type Routes } from "../src/routing/routes.js";

function routesFor(buckets: string, urls: { a?: string; b?: string } = {}): Routes {
  const config = compileConfig(
    `
endpoints:
  a: { url: "${urls.a ?? "http://127.0.0.1:1"}", auth: { type: hmac, accessKeyId: up, secretAccessKey: upsecret } }
  b: { url: "${urls.b ?? "http://127.0.0.1:2"}", auth: { type: hmac, accessKeyId: up, secretAccessKey: upsecret } }
buckets:
${buckets}
`,
    "t",
    {},
  );
  return compileRoutes(config, () => {
    throw new Error("no IAM endpoint here");
  });
}

const routes = routesFor(`
  data: { endpoint: a, upstreamBucket: data-prod }
  plain: { endpoint: b }
  "team-*": { endpoint: b, instance: crn-1 }
  "team-a-*": { endpoint: a, upstreamBucket: "a-{bucket}" }
  "logs-??": { endpoint: a, upstreamBucket: "archive-{bucket}" }
  "*": { endpoint: a }
`);

test("serves an exact name first, then the glob with the longest literal prefix, then the default", () => {
  const at = (bucket: string) => {
    const r = resolveRoute(routes, bucket);
    return r === null ? null : [r.endpoint.name, r.upstreamBucket, r.instance];
  };
  assert.deepEqual(at("data"), ["a", "data-prod", null]);
  assert.deepEqual(at("plain"), ["b", "plain", null]);
  assert.deepEqual(at("team-x"), ["b", "team-x", "crn-1"]);
  assert.deepEqual(at("team-a-x"), ["a", "a-team-a-x", null]);
  assert.deepEqual(at("logs-01"), ["a", "archive-logs-01", null]);
  assert.deepEqual(at("logs-001"), ["a", "logs-001", null]);
  assert.deepEqual(at("other"), ["a", "other", null]);
});

test("serves no name a glob would send to an exact entry's upstream bucket, nor one it makes invalid", () => {
  // `data-prod` is `data` upstream: through "*" it would be a second name for the same bucket.
  assert.equal(resolveRoute(routes, "data-prod"), null);
  const long = `team-a-${"x".repeat(54)}`; // 61 characters; "a-" makes it 63
  assert.equal(resolveRoute(routes, long)?.upstreamBucket, `a-${long}`);
  assert.equal(resolveRoute(routes, `${long}x`), null);
  const none = routesFor(`  "team-*": { endpoint: a }`);
  assert.equal(resolveRoute(none, "other"), null);
});

test("names an upstream bucket by the client name that reaches it, or by none", () => {
  const a = routes.endpoints.get("a")!;
  const b = routes.endpoints.get("b")!;
  assert.equal(clientBucketName(routes, a, "data-prod"), "data");
  assert.equal(clientBucketName(routes, a, "a-team-a-x"), "team-a-x");
  assert.equal(clientBucketName(routes, a, "archive-logs-01"), "logs-01");
  assert.equal(clientBucketName(routes, a, "whatever"), "whatever");
  assert.equal(clientBucketName(routes, b, "team-x"), "team-x");
  assert.equal(clientBucketName(routes, b, "plain"), "plain");
  // On b only `plain` and team-* are served; team-a-* names live on a.
  assert.equal(clientBucketName(routes, b, "other"), null);
  assert.equal(clientBucketName(routes, b, "team-a-x"), null);
  // Through "*" on a, `team-x` would be served by b, and `data` by its exact entry.
  assert.equal(clientBucketName(routes, a, "team-x"), null);
  assert.equal(clientBucketName(routes, a, "data"), null);
  // `archive-logs-1` reverses to `logs-1`, which logs-?? does not match; "*" serves it under its own name.
  assert.equal(clientBucketName(routes, a, "archive-logs-1"), "archive-logs-1");
  assert.equal(resolveRoute(routes, "archive-logs-1")?.upstreamBucket, "archive-logs-1");
});

test("serves an upstream bucket a glob's template reaches under that glob's name only", () => {
  // Through "*", `archive-logs-01` would be a second name for the bucket of `logs-01`.
  assert.equal(resolveRoute(routes, "logs-01")?.upstreamBucket, "archive-logs-01");
  assert.equal(resolveRoute(routes, "archive-logs-01"), null);
  assert.equal(resolveRoute(routes, "a-team-a-x"), null);
});

interface FakeStore {
  readonly url: string;
  requests: number;
  answer: { status: number; body: string };
  readonly server: Server;
}

async function fakeStore(body: string): Promise<FakeStore> {
  const store = { requests: 0, answer: { status: 200, body } } as FakeStore;
  const server = createServer((req, res) => {
    store.requests++;
    assert.equal(req.url, "/");
    assert.match(String(req.headers.authorization), /^AWS4-HMAC-SHA256 Credential=up\//);
    res.writeHead(store.answer.status, { "content-type": "application/xml" });
    res.end(store.answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(store, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server });
  return store;
}

function listingXml(...names: string[]): string {
  const buckets = names
    .map((n) => `<Bucket><Name>${n}</Name><CreationDate>2024-05-06T07:08:09.000Z</CreationDate></Bucket>`)
    .join("");
  return `<ListAllMyBucketsResult><Owner><ID>acct</ID><DisplayName>Account</DisplayName></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`;
}

const pools = new UpstreamPools();
after(() => pools.close());

test("merges the stores' listings under client names, caches them, and leaves a failed endpoint out", async (t) => {
  const store = await fakeStore(listingXml("data-prod", "a-team-a-x", "unrelated-but-served", "ab"));
  t.after(() => store.server.close());
  const failures: unknown[] = [];
  const onFailure = (message: unknown) => failures.push(message);
  diagnosticsChannel.subscribe(LIST_BUCKETS_FAILURE_CHANNEL, onFailure);
  t.after(() => diagnosticsChannel.unsubscribe(LIST_BUCKETS_FAILURE_CHANNEL, onFailure));
  // Endpoint b is a closed port.
  const listings = new BucketListings({
    routes: routesFor(
      `
  data: { endpoint: a, upstreamBucket: data-prod }
  ghost: { endpoint: a }
  "team-a-*": { endpoint: a, upstreamBucket: "a-{bucket}" }
  "*": { endpoint: a }
  "team-b-*": { endpoint: b }`,
      { a: store.url },
    ),
    pools,
    signingKeys: new SigningKeyCache(),
    log: createLogger({ level: "silent" }),
    ttlMs: 60_000,
  });
  const first = await listings.list();
  assert.deepEqual(first.owner, { id: "acct", displayName: "Account" });
  // `ghost` is configured but not in the store; `ab` is too short a client name to be served.
  assert.deepEqual(first.buckets.map((b) => b.name).sort(), ["data", "team-a-x", "unrelated-but-served"]);
  assert.equal(first.buckets[0]?.creationDate.toISOString(), "2024-05-06T07:08:09.000Z");
  assert.deepEqual(failures, [{ endpoint: "b" }]);
  await Promise.all([listings.list(), listings.list()]);
  assert.equal(store.requests, 1, "answers within the TTL come from the cache");
  assert.equal(failures.length, 1, "a failed endpoint is asked again only after the TTL");
});

test("asks again after the TTL, and answers 503 only when every endpoint failed", async (t) => {
  const store = await fakeStore(listingXml("x1x"));
  t.after(() => store.server.close());
  const listings = new BucketListings({
    routes: routesFor(`  "*": { endpoint: a }`, { a: store.url }),
    pools,
    signingKeys: new SigningKeyCache(),
    log: createLogger({ level: "silent" }),
    ttlMs: 0,
  });
  assert.deepEqual(
    (await listings.list()).buckets.map((b) => b.name),
    ["x1x"],
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  store.answer = { status: 403, body: "<Error><Code>AccessDenied</Code></Error>" };
  await assert.rejects(listings.list(), { code: "ServiceUnavailable" });
  await new Promise((resolve) => setTimeout(resolve, 5));
  store.answer = { status: 200, body: "<Wrong/>" };
  await assert.rejects(listings.list(), { code: "ServiceUnavailable" });
  assert.equal(store.requests, 3);
});
