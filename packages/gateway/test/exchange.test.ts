/**
 * The exchange's pipeline against real parts: one worker, s3rver (or, for IAM, the testkit's bearer-checking
 * store and fake IBM IAM) behind a recording proxy, requests signed as a client signs them.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, describe, type TestContext, test } from "node:test";
import { compileConfig } from "@osp/config";
import { signRequest } from "@osp/sigv4";
import {
  type BearerCheckingUpstream,
  type FakeIamServer,
  requestText,
  type S3rverUpstream,
  startBearerCheckingUpstream,
  startFakeIamServer,
  startRecordingProxy,
  startS3rver,
  type TextResponse,
} from "@osp/testkit";
import type { Authorizer } from "../src/authorization/rules.js";
import { GATEWAY_REQUEST_CHANNEL, type GatewayRequestEvent } from "../src/gateway-channels.js";
import type { CredentialSource } from "../src/identity/credential.js";
import { startWorker, type Worker } from "../src/worker/start-worker.js";
import { silentLogger } from "./helpers.js";

const ALICE = { accessKeyId: "ALICEKEY", secretAccessKey: "alice-secret-1234" };
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Forwards every request to `target`, noting `upstream:<method> <path>` in `events` first. */
function recordingProxy(target: string, events: string[]): Promise<{ url: string; close(): Promise<void> }> {
  return startRecordingProxy(target, { push: (r) => events.push(`upstream:${r.method} ${r.url}`) });
}

/** A request as an SDK sends it: SigV4 header auth over the body's SHA-256, or unsigned. */
function send(
  worker: Worker,
  method: string,
  path: string,
  options: { body?: Buffer; unsigned?: boolean } = {},
): Promise<TextResponse> {
  const body = options.body ?? Buffer.alloc(0);
  const headers: Array<[string, string]> = [["host", `127.0.0.1:${worker.port}`]];
  if (body.length > 0 || method === "PUT") headers.push(["content-length", String(body.length)]);
  if (options.unsigned !== true) {
    const signed = signRequest({
      method,
      rawPath: path,
      rawQuery: "",
      headers,
      payloadHash: sha256(body),
      accessKeyId: ALICE.accessKeyId,
      secretAccessKey: ALICE.secretAccessKey,
      region: "us-east-1",
    });
    for (const [name, value] of signed.headersToAdd) headers.push([name, value]);
  }
  return requestText(
    { host: "127.0.0.1", port: worker.port, method, path, headers: Object.fromEntries(headers) },
    body,
  );
}

/** `log:<status>[:<refusedBy>]` for each finished request, in `events`, while the test runs. */
function recordLog(t: TestContext, events: string[]): void {
  const onRequest = (message: unknown) => {
    const e = message as GatewayRequestEvent;
    events.push(e.refusedBy === null ? `log:${e.status}` : `log:${e.status}:${e.refusedBy}`);
  };
  diagnosticsChannel.subscribe(GATEWAY_REQUEST_CHANNEL, onRequest);
  t.after(() => diagnosticsChannel.unsubscribe(GATEWAY_REQUEST_CHANNEL, onRequest));
}

describe("the pipeline in front of s3rver", () => {
  let s3rver: S3rverUpstream;
  let proxy: { url: string; close(): Promise<void> };
  let worker: Worker;
  /** What the phases did, in order: the credential lookup, each authorization, each upstream request, the log. */
  const events: string[] = [];

  before(async () => {
    s3rver = await startS3rver({ buckets: ["data"] });
    proxy = await recordingProxy(s3rver.url, events);
    const credentials: CredentialSource = {
      lookup(accessKeyId) {
        events.push("authenticate");
        return accessKeyId === ALICE.accessKeyId
          ? { ...ALICE, principal: { name: "alice", groups: [] } }
          : null;
      },
    };
    // Everything but writes under `secret/`.
    const authorizer: Authorizer = (facts) => {
      events.push(`authorize:${facts.action}`);
      return !(facts.action === "write" && facts.key?.startsWith("secret/"));
    };
    const config = compileConfig(
      `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  store:
    url: ${proxy.url}
    auth: { type: hmac, accessKeyId: ${s3rver.accessKeyId}, secretAccessKey: ${s3rver.secretAccessKey} }
buckets:
  data: { endpoint: store }
`,
      "exchange-test",
      {},
    );
    worker = await startWorker(config, { log: silentLogger(), credentials, authorizer });
  });
  after(async () => {
    await worker.close(2_000);
    await proxy.close();
    await s3rver.close();
  });

  test("every phase runs, in order: authenticate, authorize, forward and relay, log", async (t) => {
    recordLog(t, events);
    events.length = 0;
    const put = await send(worker, "PUT", "/data/greeting.txt", { body: Buffer.from("hello") });
    assert.equal(put.status, 200, put.body);
    assert.deepEqual(events, [
      "authenticate",
      "authorize:write",
      "upstream:PUT /data/greeting.txt",
      "log:200",
    ]);
    events.length = 0;
    const got = await send(worker, "GET", "/data/greeting.txt");
    assert.equal(got.body, "hello");
    assert.deepEqual(events, [
      "authenticate",
      "authorize:read",
      "upstream:GET /data/greeting.txt",
      "log:200",
    ]);
  });

  test("a deny stops the request before the upstream: the store never sees it", async (t) => {
    recordLog(t, events);
    events.length = 0;
    const denied = await send(worker, "PUT", "/data/secret/plans.txt", { body: Buffer.from("top secret") });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /<Code>AccessDenied<\/Code>/);
    assert.deepEqual(events, ["authenticate", "authorize:write", "log:403:authorize"]);
    // Judged by what the store holds: nothing.
    events.length = 0;
    const read = await send(worker, "GET", "/data/secret/plans.txt");
    assert.equal(read.status, 404);
    assert.match(read.body, /<Code>NoSuchKey<\/Code>/);
  });

  test("an unsigned request is refused by authentication: no lookup, no authorization, no store", async (t) => {
    recordLog(t, events);
    events.length = 0;
    const anonymous = await send(worker, "GET", "/data/greeting.txt", { unsigned: true });
    assert.equal(anonymous.status, 403);
    assert.deepEqual(events, ["log:403:authenticate"]);
  });
});

describe("an exchange that ended while it waited", () => {
  let s3rver: S3rverUpstream;
  let worker: Worker;
  let releaseAuthorizer: () => void = () => {};

  before(async () => {
    s3rver = await startS3rver({ buckets: ["data"] });
    const credentials: CredentialSource = {
      lookup: (accessKeyId) =>
        accessKeyId === ALICE.accessKeyId ? { ...ALICE, principal: { name: "alice", groups: [] } } : null,
    };
    // A slow authorization source: it answers only once the test lets it, long after the request timed out.
    const authorizer: Authorizer = () =>
      new Promise<boolean>((resolve) => {
        releaseAuthorizer = () => resolve(true);
      });
    const config = compileConfig(
      `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
limits: { requestTimeout: 200ms }
endpoints:
  store:
    url: ${s3rver.url}
    auth: { type: hmac, accessKeyId: ${s3rver.accessKeyId}, secretAccessKey: ${s3rver.secretAccessKey} }
buckets:
  data: { endpoint: store }
`,
      "exchange-ended-test",
      {},
    );
    worker = await startWorker(config, { log: silentLogger(), credentials, authorizer });
  });
  after(async () => {
    await worker.close(2_000);
    await s3rver.close();
  });

  test("takes no spool buffer and sends nothing once the answer is given", async () => {
    const timedOut = await send(worker, "PUT", "/data/late.txt", { body: Buffer.from("late body") });
    assert.equal(timedOut.status >= 400, true, timedOut.body);
    releaseAuthorizer();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A buffer taken now would never be given back: the arena would shrink for good.
    assert.equal(worker.core.services.spool.ownedBytes, 0);
    assert.equal(worker.inFlight, 0);
    // And the store holds nothing (this read's authorization is let through before its timeout).
    const read = send(worker, "GET", "/data/late.txt");
    await new Promise((resolve) => setTimeout(resolve, 50));
    releaseAuthorizer();
    assert.equal((await read).status, 404);
  });
});

describe("the IAM token retry", () => {
  let iam: FakeIamServer;
  before(async () => {
    iam = await startFakeIamServer();
  });
  after(() => iam.close());

  /** A worker whose endpoint takes IAM tokens; the store refuses the tokens `refuse` says it should. */
  async function iamStack(
    t: TestContext,
    refuse: (token: string) => boolean,
  ): Promise<{ worker: Worker; store: BearerCheckingUpstream; upstream: string[] }> {
    const store = await startBearerCheckingUpstream({
      isValidToken: (token) => !refuse(token) && iam.isValidToken(token),
    });
    const upstream: string[] = [];
    const proxy = await recordingProxy(store.url, upstream);
    const config = compileConfig(
      `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  cos:
    url: ${proxy.url}
    auth: { type: iam, apiKey: osp-test-api-key, iamUrl: "${iam.url}" }
buckets:
  data: { endpoint: cos }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["*"], actions: ["*"] }
`,
      "exchange-iam-test",
      {},
    );
    const worker = await startWorker(config, { log: silentLogger() });
    t.after(async () => {
      await worker.close(2_000);
      await proxy.close();
      await store.close();
    });
    return { worker, store, upstream };
  }

  test("a refused token is dropped and the spooled body sent once more with a fresh one", async (t) => {
    const revoked = new Set<string>();
    let current = "";
    const { worker, store, upstream } = await iamStack(t, (token) => {
      current = token;
      return revoked.has(token);
    });
    assert.equal((await send(worker, "PUT", "/data/r.txt", { body: Buffer.from("one") })).status, 200);
    revoked.add(current);
    const issued = iam.stats.tokensIssued;
    const put = await send(worker, "PUT", "/data/r.txt", { body: Buffer.from("two") });
    assert.equal(put.status, 200, put.body);
    assert.deepEqual(upstream, [
      "upstream:PUT /data/r.txt",
      "upstream:PUT /data/r.txt",
      "upstream:PUT /data/r.txt",
    ]);
    assert.equal(store.stats.denied, 1);
    assert.deepEqual(store.objects.get("/data/r.txt")?.body, Buffer.from("two"));
    assert.equal(iam.stats.tokensIssued, issued + 1);
  });

  test("the retry happens once: a store that refuses the fresh token too gets two attempts, the client 403", async (t) => {
    let refuseAll = false;
    const { worker, store, upstream } = await iamStack(t, () => refuseAll);
    assert.equal((await send(worker, "PUT", "/data/r.txt", { body: Buffer.from("one") })).status, 200);
    refuseAll = true;
    upstream.length = 0;
    const put = await send(worker, "PUT", "/data/r.txt", { body: Buffer.from("two") });
    assert.equal(put.status, 403);
    assert.match(put.body, /<Code>AccessDenied<\/Code>/);
    assert.equal(upstream.length, 2, "the first attempt and one retry");
    assert.equal(store.stats.denied, 2);
    assert.deepEqual(store.objects.get("/data/r.txt")?.body, Buffer.from("one"));
  });
});
