/** signRequest, presignUrl, the signing key and its cache, and the two parsers on their own. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  authenticateRequest,
  deriveSigningKey,
  parseAuthorizationHeader,
  parsePresignedQuery,
  presignUrl,
  type RequestFacts,
  SigningKeyCache,
  signRequest,
  verifySignature,
} from "../src/index.js";
import { expectAuthenticated, expectError } from "./support/assertions.js";
import { AKID, EMPTY_SHA256, HOST, NOW_MS, REGION, SECRET, SIGNING_KEY } from "./support/requests.js";

const BASE = {
  method: "PUT",
  rawPath: "/bucket/a%20b.txt",
  rawQuery: "x-id=PutObject",
  payloadHash: EMPTY_SHA256,
  accessKeyId: AKID,
  secretAccessKey: SECRET,
  region: REGION,
  nowMs: NOW_MS,
} as const;

test("derives the signing key of AWS's S3 examples", () => {
  assert.equal(
    deriveSigningKey(SECRET, "20130524", "us-east-1", "s3").toString("hex"),
    "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378",
  );
});

test("signRequest signs host, x-amz-* and signable headers, and leaves the unsignable ones out", () => {
  const signed = signRequest({
    ...BASE,
    headers: [
      ["Host", HOST],
      ["Content-Type", "text/plain"],
      ["Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="],
      ["X-Amz-Meta-Owner", "alice"],
      ["User-Agent", "osp"],
      ["Connection", "keep-alive"],
      ["Expect", "100-continue"],
      ["Transfer-Encoding", "chunked"],
      ["Proxy-Authorization", "x"],
      ["Sec-Fetch-Mode", "cors"],
      ["X-Amzn-Trace-Id", "Root=1"],
    ],
  });
  assert.equal(
    signed.signedHeaders,
    "content-md5;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner",
  );
  assert.equal(signed.amzDate, "20130524T000000Z");
  assert.deepEqual(signed.headersToAdd, [
    ["authorization", signed.authorization],
    ["x-amz-content-sha256", EMPTY_SHA256],
    ["x-amz-date", "20130524T000000Z"],
  ]);
  assert.match(
    signed.authorization,
    /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, SignedHeaders=content-md5;[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
  );
});

test("signRequest owns authorization, x-amz-date and x-amz-content-sha256: input copies are ignored", () => {
  const clean = signRequest({ ...BASE, headers: [["host", HOST]] });
  const noisy = signRequest({
    ...BASE,
    headers: [
      ["host", HOST],
      ["Authorization", "AWS4-HMAC-SHA256 old"],
      ["x-amz-date", "19990101T000000Z"],
      ["X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"],
    ],
  });
  assert.equal(noisy.signature, clean.signature);
});

test("a request signed by signRequest verifies, with a session token too", () => {
  const input = {
    ...BASE,
    headers: [
      ["host", HOST],
      ["x-amz-acl", "private"],
    ] as Array<[string, string]>,
    securityToken: "tok/en+=",
  };
  const signed = signRequest(input);
  const facts: RequestFacts = {
    method: input.method,
    rawPath: input.rawPath,
    rawQuery: input.rawQuery,
    headers: [...input.headers, ...signed.headersToAdd],
  };
  const auth = expectAuthenticated(authenticateRequest(facts, { nowMs: NOW_MS }));
  assert.equal(auth.securityToken, "tok/en+=");
  assert.ok(auth.signedHeaders.includes("x-amz-security-token"));
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
});

test("signRequest takes the key from secretAccessKey, signingKey or a SigningKeyCache alike", () => {
  const headers = [["host", HOST]] as const;
  const fromSecret = signRequest({ ...BASE, headers });
  const { secretAccessKey: _secret, ...withoutSecret } = BASE;
  const fromKey = signRequest({ ...withoutSecret, headers, signingKey: SIGNING_KEY });
  const cache = new SigningKeyCache();
  const fromCache = signRequest({ ...BASE, headers, signingKeyCache: cache });
  assert.equal(fromKey.signature, fromSecret.signature);
  assert.equal(fromCache.signature, fromSecret.signature);
  assert.equal(cache.stats().misses, 1);
  assert.throws(() => signRequest({ ...withoutSecret, headers }), TypeError);
});

test("signRequest refuses a request without host and a malformed path as programming errors", () => {
  assert.throws(() => signRequest({ ...BASE, headers: [] }), TypeError);
  assert.throws(() => signRequest({ ...BASE, headers: [["host", HOST]], rawPath: "/a%zz" }), TypeError);
});

test("signRequest signs a raw '+' in the path as a literal plus", () => {
  const raw = signRequest({ ...BASE, headers: [["host", HOST]], rawPath: "/a+b" });
  const encoded = signRequest({ ...BASE, headers: [["host", HOST]], rawPath: "/a%2Bb" });
  assert.equal(raw.signature, encoded.signature);
});

test("presignUrl makes a URL that verifies until it expires", () => {
  const url = presignUrl({
    method: "GET",
    rawPath: "/bucket/ünï code.txt".replace(/ /g, "%20"),
    rawQuery: "response-content-type=text%2Fplain",
    host: HOST,
    headers: [["X-Amz-Meta-Tag", "v"]],
    accessKeyId: AKID,
    secretAccessKey: SECRET,
    region: REGION,
    expiresSeconds: 60,
    nowMs: NOW_MS,
    securityToken: "tok/en+=",
  });
  const q = url.indexOf("?");
  const facts: RequestFacts = {
    method: "GET",
    rawPath: url.slice(0, q),
    rawQuery: url.slice(q + 1),
    headers: [
      ["host", HOST],
      ["x-amz-meta-tag", "v"],
    ],
  };
  assert.match(url, /X-Amz-SignedHeaders=host%3Bx-amz-meta-tag&X-Amz-Signature=[0-9a-f]{64}$/);
  const auth = expectAuthenticated(authenticateRequest(facts, { nowMs: NOW_MS + 60_000 }));
  assert.equal(auth.securityToken, "tok/en+=");
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
  expectError(authenticateRequest(facts, { nowMs: NOW_MS + 60_001 }), "AccessDenied", 403);
});

test("presignUrl refuses a lifetime outside 1..604800 seconds", () => {
  const input = {
    method: "GET",
    rawPath: "/b/k",
    host: HOST,
    accessKeyId: AKID,
    secretAccessKey: SECRET,
    region: REGION,
  };
  for (const expiresSeconds of [0, 604_801, 1.5, Number.NaN]) {
    assert.throws(() => presignUrl({ ...input, expiresSeconds }), RangeError);
  }
});

test("SigningKeyCache returns the derived key, cached per secret and scope", () => {
  const cache = new SigningKeyCache();
  const scope = { date: "20130524", region: "us-east-1", service: "s3" };
  const first = cache.get(SECRET, scope);
  assert.equal(first.toString("hex"), SIGNING_KEY.toString("hex"));
  assert.equal(cache.get(SECRET, scope), first, "a hit returns the cached buffer");
  assert.notEqual(cache.get(`${SECRET}x`, scope).toString("hex"), first.toString("hex"));
  assert.notEqual(cache.get(SECRET, { ...scope, date: "20130525" }).toString("hex"), first.toString("hex"));
  assert.deepEqual(cache.stats(), { size: 3, hits: 1, misses: 3 });
});

test("SigningKeyCache keeps scopes apart whatever characters they hold", () => {
  const cache = new SigningKeyCache();
  const a = cache.get(SECRET, { date: "20130524", region: "a1", service: "s3" });
  const b = cache.get(SECRET, { date: "20130524", region: "a", service: "1s3" });
  assert.notEqual(a.toString("hex"), b.toString("hex"));
});

test("SigningKeyCache stays within maxEntries and keeps keys in use", () => {
  const cache = new SigningKeyCache(10);
  const hot = { date: "20130524", region: "hot", service: "s3" };
  cache.get(SECRET, hot);
  for (let i = 0; i < 100; i++) {
    cache.get(SECRET, { date: "20130524", region: `r${i}`, service: "s3" });
    cache.get(SECRET, hot);
    assert.ok(cache.stats().size <= 10);
  }
  assert.equal(cache.stats().misses, 101, "the key in use was never evicted");
  cache.clear();
  assert.equal(cache.stats().size, 0);
  assert.throws(() => new SigningKeyCache(1), RangeError);
});

test("parseAuthorizationHeader returns the access key, scope, signed headers and signature", () => {
  const parsed = parseAuthorizationHeader(
    "AWS4-HMAC-SHA256 Credential=AKID/20130524/eu-de/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123",
  );
  assert.deepEqual(parsed, {
    accessKeyId: "AKID",
    scope: { date: "20130524", region: "eu-de", service: "s3" },
    signedHeaders: ["host", "x-amz-date"],
    signature: "abc123",
  });
});

test("parsePresignedQuery decodes the parameters", () => {
  const parsed = parsePresignedQuery(
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host%3Bx-amz-acl&X-Amz-Security-Token=a%2Bb%3D&X-Amz-Signature=abc",
  );
  assert.deepEqual(parsed, {
    accessKeyId: "AKID",
    scope: { date: "20130524", region: "us-east-1", service: "s3" },
    amzDate: "20130524T000000Z",
    requestTimeMs: NOW_MS,
    expiresSeconds: 86_400,
    signedHeaders: ["host", "x-amz-acl"],
    signature: "abc",
    securityToken: "a+b=",
  });
  expectError(
    parsePresignedQuery("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
    "AuthorizationQueryParametersError",
    400,
  );
  expectError(parsePresignedQuery("X-Amz-Expires=%"), "InvalidURI", 400);
});
