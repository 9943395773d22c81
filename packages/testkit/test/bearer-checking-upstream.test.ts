import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type BearerCheckingUpstream, startBearerCheckingUpstream } from "../src/index.js";

let store: BearerCheckingUpstream;
before(async () => {
  store = await startBearerCheckingUpstream({ isValidToken: (token) => token === "good-token" });
});
after(() => store.close());

const auth = { authorization: "Bearer good-token" };

test("stores a PUT body and serves it back with GET and HEAD, then deletes it", async () => {
  const put = await fetch(`${store.url}/bucket/a%20key`, { method: "PUT", headers: auth, body: "hello" });
  assert.equal(put.status, 200);
  assert.equal(put.headers.get("etag"), '"5d41402abc4b2a76b9719d911017c592"');
  const get = await fetch(`${store.url}/bucket/a%20key`, { headers: auth });
  assert.equal(await get.text(), "hello");
  const head = await fetch(`${store.url}/bucket/a%20key`, { method: "HEAD", headers: auth });
  assert.equal(head.headers.get("content-length"), "5");
  assert.equal((await fetch(`${store.url}/bucket/a%20key`, { method: "DELETE", headers: auth })).status, 204);
  const gone = await fetch(`${store.url}/bucket/a%20key`, { headers: auth });
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /<Code>NoSuchKey<\/Code>/);
});

test("answers 403 AccessDenied in S3 XML without a valid bearer token", async () => {
  const denied = store.stats.denied;
  for (const headers of [{}, { authorization: "Bearer other" }, { authorization: "AWS4-HMAC-SHA256 x" }]) {
    const res = await fetch(`${store.url}/bucket/k`, { headers });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Error><Code>AccessDenied<\/Code>/);
  }
  assert.equal(store.stats.denied, denied + 3);
});

test("accepts the lower-case bearer scheme IBM's docs also show", async () => {
  const res = await fetch(`${store.url}/bucket/missing`, { headers: { authorization: "bearer good-token" } });
  assert.equal(res.status, 404);
  await res.arrayBuffer();
});
