/**
 * The gateway in IBM IAM mode: clients sign with SigV4 as usual, osp fetches an access token from IAM
 * with its API key and sends `Authorization: Bearer <token>` to an IBM-COS-like store that accepts only
 * tokens the (fake) IAM issued. A recording proxy sits in front of the store so the tests see exactly
 * which headers left the gateway.
 */
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { compileConfig } from "@osp/config";
import { startWorker, type Worker } from "@osp/gateway";
import { createLogger } from "@osp/log";
import {
  type BearerCheckingUpstream,
  type FakeIamServer,
  freePort,
  startBearerCheckingUpstream,
  startFakeIamServer,
} from "@osp/testkit";
import { ALICE, type Recorded, rejectsWith, sdkClient, startRecordingProxy } from "./harness.js";

const API_KEY = "osp-test-api-key";
const INSTANCE = "crn:v1:bluemix:public:cloud-object-storage:global:a/0123456789abcdef:1111-2222::";

interface IamStack {
  readonly iam: FakeIamServer;
  readonly store: BearerCheckingUpstream;
  /** Every request the gateway sent upstream, in arrival order. */
  readonly recorded: Recorded[];
  /** Tokens the store refuses from now on, though IAM still calls them valid (a revocation at COS). */
  readonly revoked: Set<string>;
  readonly worker: Worker;
  readonly client: S3Client;
}

/**
 * Fake IAM, bearer store, recording proxy and one worker whose endpoint `cos` uses IAM. Buckets: `cos-data`
 * (with an IBM service instance) and `cos-plain` (without). Everything is closed when the test ends.
 */
async function startIamStack(
  t: TestContext,
  options: { apiKey?: string; iamUrl?: string; tokenLifetimeSeconds?: number; spoolBytes?: number } = {},
): Promise<IamStack> {
  const iam = await startFakeIamServer(
    options.tokenLifetimeSeconds === undefined ? {} : { tokenLifetimeSeconds: options.tokenLifetimeSeconds },
  );
  const revoked = new Set<string>();
  const store = await startBearerCheckingUpstream(
    { isValidToken: (token) => !revoked.has(token) && iam.isValidToken(token) },
    ["cos-data", "cos-plain", "cos-unconfigured"],
  );
  const recorded: Recorded[] = [];
  const proxy = await startRecordingProxy(store.url, recorded);
  const config = compileConfig(
    `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
limits: { spoolBytes: ${options.spoolBytes ?? 8388608} }
cache: { listBucketsTtl: 0 }
endpoints:
  cos:
    url: ${proxy.url}
    addressing: path
    auth: { type: iam, apiKey: ${options.apiKey ?? API_KEY}, iamUrl: "${options.iamUrl ?? iam.url}" }
buckets:
  cos-data: { endpoint: cos, instance: "${INSTANCE}" }
  cos-plain: { endpoint: cos }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["cos-*"], actions: ["*"] }
`,
    "iam-e2e",
    {},
  );
  const worker = await startWorker(config, { log: createLogger({ level: "silent" }) });
  const client = sdkClient(`http://127.0.0.1:${worker.port}`);
  t.after(async () => {
    client.destroy();
    await worker.close(2_000);
    await proxy.close();
    await store.close();
    await iam.close();
  });
  return { iam, store, recorded, revoked, worker, client };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("osp in IBM IAM mode", () => {
  test("put, head, get and delete round-trip to a bearer-token store", async (t) => {
    const { client, store, iam } = await startIamStack(t);
    const body = Buffer.from("hello from iam mode\n".repeat(1000));
    await client.send(
      new PutObjectCommand({ Bucket: "cos-data", Key: "dir/obj.txt", Body: body, ContentType: "text/plain" }),
    );
    const stored = store.objects.get("/cos-data/dir/obj.txt");
    assert.ok(stored, "the store holds the object");
    assert.deepEqual(stored.body, body);
    assert.equal(stored.contentType, "text/plain");

    const head = await client.send(new HeadObjectCommand({ Bucket: "cos-data", Key: "dir/obj.txt" }));
    assert.equal(head.ContentLength, body.length);
    const got = await client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "dir/obj.txt" }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    assert.equal(got.ETag, stored.etag);

    await client.send(new DeleteObjectCommand({ Bucket: "cos-data", Key: "dir/obj.txt" }));
    assert.equal(store.objects.has("/cos-data/dir/obj.txt"), false);
    await rejectsWith(
      client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "dir/obj.txt" })),
      "NoSuchKey",
      404,
    );

    assert.equal(store.stats.denied, 0, "every upstream request carried a valid token");
    assert.equal(store.stats.accepted, 5);
    assert.equal(iam.stats.tokensIssued, 1);
  });

  test("the upstream sees only the bearer token, never the client's SigV4 credentials", async (t) => {
    const { client, recorded, iam } = await startIamStack(t);
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "data" }));
    await client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "k" }));
    await client.send(new HeadObjectCommand({ Bucket: "cos-data", Key: "k" }));
    assert.equal(recorded.length, 3);
    for (const r of recorded) {
      const authorization = r.headers.authorization ?? "";
      const match = /^Bearer (\S+)$/.exec(authorization);
      assert.ok(match, `${r.method} ${r.url}: authorization is a bearer token, got ${authorization}`);
      assert.ok(iam.isValidToken(match[1]!), "the token is one the IAM server issued");
      for (const [name, value] of Object.entries(r.headers)) {
        const text = String(value);
        assert.ok(!text.includes("AWS4-HMAC-SHA256"), `${name} carries a SigV4 signature`);
        assert.ok(!text.includes(ALICE.accessKeyId), `${name} carries the client's access key`);
        assert.ok(!text.includes(API_KEY), `${name} carries the IAM API key`);
      }
      for (const name of ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]) {
        assert.equal(r.headers[name], undefined, `${r.method} ${r.url} sends ${name}`);
      }
    }
  });

  test("50 concurrent uploads and then 50 concurrent GETs on a cold gateway fetch exactly one token", async (t) => {
    const { client, iam, store } = await startIamStack(t);
    const keys = Array.from({ length: 50 }, (_, i) => `many/${i}`);
    await Promise.all(
      keys.map((Key) => client.send(new PutObjectCommand({ Bucket: "cos-data", Key, Body: Key }))),
    );
    const bodies = await Promise.all(
      keys.map(async (Key) => {
        const res = await client.send(new GetObjectCommand({ Bucket: "cos-data", Key }));
        return res.Body!.transformToString();
      }),
    );
    assert.deepEqual(bodies, keys);
    assert.equal(iam.stats.requests, 1, "one token request reached IAM");
    assert.equal(iam.stats.tokensIssued, 1);
    assert.equal(store.stats.accepted, 100);
    assert.equal(store.stats.denied, 0);
  });

  test("IAM answering 500 gives the client 503 at once, without a token storm, and osp recovers", async (t) => {
    const { client, iam, store } = await startIamStack(t);
    iam.failNext(500);
    const started = Date.now();
    const err = await rejectsWith(
      client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "missing" })),
      "ServiceUnavailable",
      503,
    );
    assert.ok(!err.message.includes(API_KEY), "the error does not reveal the API key");
    // Within the backoff a second request fails the same way without asking IAM again.
    await rejectsWith(
      client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "x" })),
      "ServiceUnavailable",
      503,
    );
    // No wait on IAM (its timeout and backoff are seconds long); the speed itself is not this test's claim.
    assert.ok(Date.now() - started < 10_000, `failures took ${Date.now() - started} ms`);
    assert.equal(iam.stats.requests, 1);
    assert.equal(iam.stats.injectedFailures, 1);
    assert.equal(store.stats.requests, 0, "nothing was sent upstream without a token");

    await sleep(1_200); // past the first backoff step (1 s)
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "x" }));
    assert.equal(iam.stats.tokensIssued, 1);
    assert.deepEqual(store.objects.get("/cos-data/k")?.body, Buffer.from("x"));
  });

  test("an API key IAM does not know gives 500 (not worth a retry) and never reaches the store", async (t) => {
    const badKey = "not-a-known-api-key";
    const { client, iam, store } = await startIamStack(t, { apiKey: badKey });
    const err = await rejectsWith(
      client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "x" })),
      "InternalError",
      500,
    );
    assert.ok(!err.message.includes(badKey), "the error does not reveal the API key");
    assert.equal(iam.stats.rejected, 1);
    assert.equal(iam.stats.tokensIssued, 0);
    assert.equal(store.stats.requests, 0);
    assert.equal(store.objects.size, 0);
  });

  test("an unreachable IAM gives 503 quickly instead of a hang", async (t) => {
    const closedPort = await freePort();
    const { client, store } = await startIamStack(t, {
      iamUrl: `http://127.0.0.1:${closedPort}/identity/token`,
    });
    const started = Date.now();
    await rejectsWith(
      client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "k" })),
      "ServiceUnavailable",
      503,
    );
    assert.ok(
      Date.now() - started < 10_000,
      `took ${Date.now() - started} ms (IAM requests time out after 15 s)`,
    );
    assert.equal(store.stats.requests, 0);
  });

  test("a token past its expiry is replaced before use, never sent to the store", async (t) => {
    // osp treats tokens as expired 10 s early: an 11 s token is usable for about 1 s.
    const { client, iam, store } = await startIamStack(t, { tokenLifetimeSeconds: 11 });
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "v1" }));
    assert.equal(iam.stats.tokensIssued, 1);
    await sleep(1_200);
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "v2" }));
    assert.equal(iam.stats.tokensIssued, 2, "a fresh token was fetched");
    assert.equal(store.stats.denied, 0);
    assert.deepEqual(store.objects.get("/cos-data/k")?.body, Buffer.from("v2"));
  });

  test("a token the store refuses is dropped and a GET is retried once with a fresh one", async (t) => {
    const { iam, store, recorded, revoked, client } = await startIamStack(t);
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "r.txt", Body: "revoked" }));
    const first = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.ok(first !== undefined);
    revoked.add(first);
    const got = await client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "r.txt" }));
    assert.equal(await got.Body?.transformToString(), "revoked");
    assert.equal(iam.stats.tokensIssued, 2);
    assert.equal(store.stats.denied, 1);
    const second = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.notEqual(second, first);
  });

  test("ListBuckets asks the store with a fresh token when it refuses the cached one", async (t) => {
    const { iam, store, recorded, revoked, client } = await startIamStack(t);
    const names = async () =>
      ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name).sort();
    assert.deepEqual(await names(), ["cos-data", "cos-plain"]);
    const first = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.ok(first !== undefined);
    revoked.add(first);
    // Both listings (one per service instance) are refused once; the token is dropped and each asked again.
    assert.deepEqual(await names(), ["cos-data", "cos-plain"]);
    assert.equal(iam.stats.tokensIssued, 2);
    assert.ok(store.stats.denied >= 1);
    const last = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.notEqual(last, first);
  });

  test("a refused token is not retried for a streamed body (not replayable): the 403 reaches the client", async (t) => {
    const { iam, store, recorded, revoked, client } = await startIamStack(t, { spoolBytes: 0 });
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "r.txt", Body: "one" }));
    const first = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.ok(first !== undefined);
    revoked.add(first);
    await rejectsWith(
      client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "r.txt", Body: "two" })),
      "AccessDenied",
      403,
    );
    assert.equal(store.stats.denied, 1);
    // The refused token was dropped: the next request fetches a new one and succeeds.
    const got = await client.send(new GetObjectCommand({ Bucket: "cos-data", Key: "r.txt" }));
    assert.equal(await got.Body?.transformToString(), "one");
    assert.equal(iam.stats.tokensIssued, 2);
  });

  test("a refused token is retried once for a spooled body (osp holds it whole): the upload succeeds", async (t) => {
    const { iam, store, recorded, revoked, client } = await startIamStack(t);
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "r.txt", Body: "one" }));
    const first = /^Bearer (\S+)$/.exec(recorded.at(-1)?.headers.authorization?.toString() ?? "")?.[1];
    assert.ok(first !== undefined);
    revoked.add(first);
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "r.txt", Body: "two" }));
    assert.equal(store.stats.denied, 1);
    assert.deepEqual(store.objects.get("/cos-data/r.txt")?.body, Buffer.from("two"));
    assert.equal(iam.stats.tokensIssued, 2);
  });

  test("CreateBucket carries ibm-service-instance-id from the bucket's instance, object requests do not", async (t) => {
    const { client, recorded } = await startIamStack(t);
    await client.send(new CreateBucketCommand({ Bucket: "cos-data" }));
    await client.send(new CreateBucketCommand({ Bucket: "cos-plain" }));
    await client.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k", Body: "x" }));
    const [withInstance, withoutInstance, put] = recorded;
    assert.equal(recorded.length, 3);
    assert.equal(withInstance?.method, "PUT");
    assert.equal(withInstance?.url, "/cos-data");
    assert.equal(withInstance?.headers["ibm-service-instance-id"], INSTANCE);
    assert.equal(withoutInstance?.url, "/cos-plain");
    assert.equal(withoutInstance?.headers["ibm-service-instance-id"], undefined);
    assert.equal(put?.url.split("?")[0], "/cos-data/k");
    assert.equal(put?.headers["ibm-service-instance-id"], undefined);
  });
});
