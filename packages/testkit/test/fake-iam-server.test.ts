import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type FakeIamServer, startFakeIamServer } from "../src/index.js";

const FORM = "application/x-www-form-urlencoded";
const GRANT = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey";

let now = 1_700_000_000_000;
let iam: FakeIamServer;
before(async () => {
  iam = await startFakeIamServer({
    validApiKeys: ["good-key"],
    tokenLifetimeSeconds: 3600,
    nowMs: () => now,
  });
});
after(() => iam.close());

function post(body: string, contentType = FORM): Promise<Response> {
  return fetch(iam.url, {
    method: "POST",
    headers: { "content-type": contentType, accept: "application/json" },
    body,
  });
}

test("issues a bearer token in IBM's response shape for a valid API key", async () => {
  const res = await post(`${GRANT}&apikey=good-key`);
  assert.equal(res.status, 200);
  const json = (await res.json()) as Record<string, unknown>;
  assert.equal(json["token_type"], "Bearer");
  assert.equal(json["refresh_token"], "not_supported");
  assert.equal(json["expires_in"], 3600);
  assert.equal(json["expiration"], Math.floor(now / 1000) + 3600);
  assert.match(String(json["access_token"]), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal(iam.isValidToken(String(json["access_token"])), true);
});

test("answers 400 BXNIM0415E in IBM's error shape for an unknown API key", async () => {
  const res = await post(`${GRANT}&apikey=wrong-key`);
  assert.equal(res.status, 400);
  const json = (await res.json()) as {
    errorCode: string;
    errorMessage: string;
    context: { requestId: string };
  };
  assert.equal(json.errorCode, "BXNIM0415E");
  assert.equal(json.errorMessage, "Provided API key could not be found");
  assert.equal(typeof json.context.requestId, "string");
});

test("refuses a wrong method, content type, grant type or missing key with 4xx", async () => {
  assert.equal((await fetch(iam.url)).status, 405);
  assert.equal((await post(`${GRANT}&apikey=good-key`, "application/json")).status, 400);
  assert.equal((await post("grant_type=password&apikey=good-key")).status, 400);
  assert.equal((await post(GRANT)).status, 400);
});

test("answers the injected failures next, with Retry-After, then recovers", async () => {
  iam.failNext(429, { retryAfterSeconds: 7 });
  iam.failNext(500);
  const first = await post(`${GRANT}&apikey=good-key`);
  assert.equal(first.status, 429);
  assert.equal(first.headers.get("retry-after"), "7");
  assert.equal((await post(`${GRANT}&apikey=good-key`)).status, 500);
  assert.equal((await post(`${GRANT}&apikey=good-key`)).status, 200);
});

test("counts requests and expires tokens on its own clock", async () => {
  const before = iam.stats.requests;
  iam.setTokenLifetimeSeconds(60);
  const json = (await (await post(`${GRANT}&apikey=good-key`)).json()) as { access_token: string };
  assert.equal(iam.stats.requests, before + 1);
  assert.equal(iam.isValidToken(json.access_token), true);
  now += 60_000;
  assert.equal(iam.isValidToken(json.access_token), false);
  assert.equal(iam.isValidToken("never-issued"), false);
});
