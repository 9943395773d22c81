import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, test } from "node:test";
import { inspect } from "node:util";
import { S3Error } from "@osp/errors";
import { type FakeIamServer, startBearerCheckingUpstream, startFakeIamServer } from "@osp/testkit";
import { createUpstreamBody, IAM_TOKEN_CHANNEL, IamTokenProvider, UpstreamPools } from "../src/index.js";
import { send, startServer, waitFor } from "./helpers.js";

const API_KEY = "osp-test-api-key";
const T0 = 1_700_000_000_000;
let now = T0;
const clock = () => now;
let iam: FakeIamServer;
const pools = new UpstreamPools({ connections: 4 });

before(async () => {
  iam = await startFakeIamServer({ validApiKeys: [API_KEY], tokenLifetimeSeconds: 100, nowMs: clock });
});
after(async () => {
  await pools.close();
  await iam.close();
});

function provider(
  options: { refreshFraction?: number; apiKey?: string; iamUrl?: string; requestTimeoutMs?: number } = {},
): IamTokenProvider {
  now = T0;
  iam.setTokenLifetimeSeconds(100);
  return new IamTokenProvider({
    iamUrl: options.iamUrl ?? iam.url,
    apiKey: options.apiKey ?? API_KEY,
    pools,
    nowMs: clock,
    ...(options.refreshFraction === undefined ? {} : { refreshFraction: options.refreshFraction }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  });
}

async function rejection(promise: Promise<unknown>): Promise<S3Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof S3Error);
    return err;
  }
  assert.fail("expected a rejection");
}

test("serves 200 concurrent getToken() calls with one IAM request", async () => {
  const tokens = provider();
  const before = iam.stats.requests;
  const results = await Promise.all(Array.from({ length: 200 }, () => tokens.getToken()));
  assert.equal(iam.stats.requests - before, 1);
  assert.equal(new Set(results).size, 1);
  assert.equal(iam.isValidToken(results[0]!), true);
  assert.equal(tokens.tryGetToken(), results[0]);
});

test("refreshes in the background after 80 % of the life while serving the current token", async () => {
  const tokens = provider();
  const first = await tokens.getToken();
  const issued = iam.stats.tokensIssued;
  now = T0 + 79_000;
  assert.equal(await tokens.getToken(), first);
  assert.equal(iam.stats.tokensIssued, issued, "no refresh before 80 %");
  now = T0 + 81_000;
  assert.equal(await tokens.getToken(), first, "the current token keeps serving during the refresh");
  assert.equal(tokens.tryGetToken(), first);
  await waitFor(() => iam.stats.tokensIssued === issued + 1);
  await waitFor(() => tokens.tryGetToken() !== first);
  const second = await tokens.getToken();
  assert.notEqual(second, first);
  assert.equal(iam.stats.tokensIssued, issued + 1, "one refresh, however many calls");
});

test("treats a token as expired 10 s before its end", async () => {
  const tokens = provider({ refreshFraction: 1 });
  const first = await tokens.getToken();
  assert.equal(tokens.peek()?.expiresAtMs, T0 + 90_000);
  const issued = iam.stats.tokensIssued;
  now = T0 + 89_999;
  assert.equal(await tokens.getToken(), first);
  assert.equal(iam.stats.tokensIssued, issued);
  now = T0 + 90_000;
  assert.equal(tokens.tryGetToken(), null);
  const second = await tokens.getToken();
  assert.notEqual(second, first);
  assert.equal(iam.stats.tokensIssued, issued + 1);
});

test("backs off after a 429 with Retry-After, then recovers", async () => {
  const tokens = provider();
  iam.failNext(429, { retryAfterSeconds: 5 });
  const err = await rejection(tokens.getToken());
  assert.equal(err.code, "ServiceUnavailable");
  assert.equal(err.source, "upstream");
  assert.match(err.message, /HTTP 429/);
  const requests = iam.stats.requests;
  now = T0 + 4_999;
  assert.equal(await rejection(tokens.getToken()), err, "no new request during the backoff");
  assert.equal(iam.stats.requests, requests);
  now = T0 + 5_000;
  assert.equal(iam.isValidToken(await tokens.getToken()), true);
  assert.equal(iam.stats.requests, requests + 1);
});

test("backs off exponentially after 500s, then recovers", async () => {
  const tokens = provider();
  iam.failNext(500, { count: 2 });
  assert.match((await rejection(tokens.getToken())).message, /HTTP 500/);
  now = T0 + 1_000; // first backoff: 1 s
  await rejection(tokens.getToken());
  const requests = iam.stats.requests;
  now = T0 + 2_500; // second backoff: 2 s from T0 + 1 s
  await rejection(tokens.getToken());
  assert.equal(iam.stats.requests, requests);
  now = T0 + 3_000;
  assert.equal(iam.isValidToken(await tokens.getToken()), true);
});

test("gives up on an IAM that does not answer within the request deadline", async (t) => {
  const silent = await startServer((req) => req.resume());
  t.after(() => silent.close());
  const tokens = provider({ iamUrl: `${silent.origin}/identity/token`, requestTimeoutMs: 100 });
  const err = await rejection(tokens.getToken());
  assert.equal(err.code, "ServiceUnavailable");
  assert.equal(err.source, "upstream");
});

test("keeps serving the current token when a background refresh fails", async () => {
  const tokens = provider();
  const first = await tokens.getToken();
  iam.failNext(500);
  const failures = iam.stats.injectedFailures;
  now = T0 + 85_000;
  assert.equal(await tokens.getToken(), first);
  await waitFor(() => iam.stats.injectedFailures === failures + 1);
  await new Promise(setImmediate);
  assert.equal(await tokens.getToken(), first);
  now = T0 + 87_000; // past the 1 s backoff: the next call refreshes again
  assert.equal(await tokens.getToken(), first);
  await waitFor(() => tokens.tryGetToken() !== first);
});

test("invalidate() drops the current token so the next calls share one new fetch", async () => {
  const tokens = provider();
  const first = await tokens.getToken();
  const requests = iam.stats.requests;
  tokens.invalidate(first);
  const again = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
  assert.equal(iam.stats.requests, requests + 1);
  assert.notEqual(again[0], first);
  tokens.invalidate(first); // stale: the newer token stays
  assert.equal(tokens.tryGetToken(), again[0]);
});

test("answers a refused API key with a non-503 error, one event saying so, and no new fetch before the longest backoff", async () => {
  const events: Array<{ outcome: string; status: number; apiKeyRefused: boolean; iamUrl: string }> = [];
  const listener = (message: unknown) => events.push(message as (typeof events)[number]);
  diagnosticsChannel.subscribe(IAM_TOKEN_CHANNEL, listener);
  try {
    const refused = provider({ apiKey: "osp-wrong-key" });
    const before = iam.stats.requests;
    const err = await rejection(refused.getToken());
    assert.equal(err.code, "InternalError");
    assert.equal(err.status, 500);
    assert.equal(err.source, "upstream");
    assert.match(err.message, /IBM IAM refused the API key .*HTTP 400, BXNIM0415E/);
    assert.deepEqual(
      events.map((e) => [e.outcome, e.status, e.apiKeyRefused, e.iamUrl]),
      [["error", 400, true, iam.url]],
    );
    // Within the longest backoff (60 s) every caller gets the same error without asking IAM again.
    now += 59_000;
    assert.equal(await rejection(refused.getToken()), err);
    assert.equal(iam.stats.requests - before, 1);
    now += 2_000;
    await rejection(refused.getToken());
    assert.equal(iam.stats.requests - before, 2);
  } finally {
    diagnosticsChannel.unsubscribe(IAM_TOKEN_CHANNEL, listener);
  }
});

test("never lets the API key into errors, stacks, events or inspect output", async () => {
  const secret = `osp-secret-${randomUUID()}`;
  const events: unknown[] = [];
  const listener = (message: unknown) => events.push(message);
  diagnosticsChannel.subscribe(IAM_TOKEN_CHANNEL, listener);
  try {
    const refused = provider({ apiKey: secret });
    const err = await rejection(refused.getToken());
    assert.match(err.message, /HTTP 400, BXNIM0415E/);
    const closed = await startServer(() => {});
    await closed.close();
    const unreachable = provider({ apiKey: secret, iamUrl: `${closed.origin}/identity/token` });
    const err2 = await rejection(unreachable.getToken());
    assert.equal(err2.code, "ServiceUnavailable");
    for (const value of [err, err2, refused, unreachable, events]) {
      const text = inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true });
      assert.equal(text.includes(secret), false);
    }
    for (const e of [err, err2]) {
      assert.equal(`${e.message}${e.stack}${JSON.stringify(e.toData())}`.includes(secret), false);
    }
    assert.throws(
      () => new IamTokenProvider({ iamUrl: "http://iam.example/identity/token", apiKey: secret, pools }),
      (thrown: Error) => thrown instanceof TypeError && !inspect(thrown).includes(secret),
    );
  } finally {
    diagnosticsChannel.unsubscribe(IAM_TOKEN_CHANNEL, listener);
  }
  assert.ok(events.length >= 2);
});

test("the bearer-checking upstream accepts the issued token and refuses others", async (t) => {
  const tokens = provider();
  const store = await startBearerCheckingUpstream(iam);
  t.after(() => store.close());
  const token = await tokens.getToken();
  const body = createUpstreamBody(5);
  const put = send(pools, {
    origin: store.url,
    method: "PUT",
    path: "/bucket/key",
    headers: [
      ["host", "s3.example"],
      ["authorization", `Bearer ${token}`],
    ],
    body,
  });
  body.write(Buffer.from("hello"));
  body.end();
  assert.equal((await put.done).status, 200);
  assert.equal(store.objects.get("/bucket/key")?.body.toString(), "hello");

  const get = (authorization: string) =>
    send(pools, {
      origin: store.url,
      method: "GET",
      path: "/bucket/key",
      headers: [
        ["host", "s3.example"],
        ["authorization", authorization],
      ],
      body: null,
    }).done;
  assert.equal((await get(`Bearer ${token}`)).body.toString(), "hello");
  const denied = await get("Bearer not-issued-by-iam");
  assert.equal(denied.status, 403);
  assert.match(denied.body.toString(), /<Code>AccessDenied<\/Code>/);
  now = T0 + 100_000; // expired on the fake IAM's clock
  assert.equal((await get(`Bearer ${token}`)).status, 403);
});
