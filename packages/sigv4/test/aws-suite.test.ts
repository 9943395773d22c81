/**
 * The AWS SigV4 test suite (generic service "service"), table-driven over every case: canonical request,
 * string to sign and Authorization (docs/s3-sigv4.md "Test vectors"). Each case is fed through the verifier
 * the gateway uses (authenticateRequest → buildCanonicalRequest → verifySignature). Cases whose expectations
 * contradict S3's rules run inverted, saying why.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import {
  type AuthenticatedRequest,
  authenticateRequest,
  buildCanonicalRequest,
  buildStringToSign,
  deriveSigningKey,
  formatAuthorizationHeader,
  type RequestFacts,
  verifySignature,
} from "../src/index.js";
import { expectAuthenticated, expectError } from "./support/assertions.js";
import { loadSuite, SUITE, type SuiteRequest } from "./support/fixtures.js";

const cases = loadSuite();
const key = deriveSigningKey(SUITE.secretAccessKey, "20150830", SUITE.region, SUITE.service);
const options = { nowMs: SUITE.nowMs, service: SUITE.service };

/**
 * The suite's requests carry no `x-amz-content-sha256` (generic services hash the body themselves); S3 header
 * auth requires it, so it is added, unsigned (allowed for that one header), holding the body's SHA-256: the
 * canonical request's last line is then exactly the suite's.
 */
function toFacts(request: SuiteRequest, authorization?: string): RequestFacts {
  const headers: Array<[string, string]> = [
    ...request.headers,
    ["x-amz-content-sha256", createHash("sha256").update(request.body).digest("hex")],
  ];
  if (authorization !== undefined) headers.push(["authorization", authorization]);
  return { method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers };
}

function authenticate(facts: RequestFacts): AuthenticatedRequest {
  return expectAuthenticated(authenticateRequest(facts, options));
}

/** Cases whose expectations are not S3's, with the reason. */
const NOT_S3: Record<string, string> = {
  "normalize-path/get-relative":
    "S3 does not normalise paths: `/example/..` is signed as sent, the generic suite expects `/`",
  "normalize-path/get-relative-relative":
    "S3 does not normalise paths: `/example1/example2/../..` is signed as sent, the suite expects `/`",
  "normalize-path/get-slash": "S3 does not normalise paths: `//` is signed as sent, the suite expects `/`",
  "normalize-path/get-slash-dot-slash":
    "S3 does not normalise paths: `/./` is signed as sent, the suite expects `/`",
  "normalize-path/get-slash-pointless-dot":
    "S3 does not normalise paths: `/./example` is signed as sent, the suite expects `/example`",
  "normalize-path/get-slashes":
    "S3 does not normalise paths: `//example//` is signed as sent, the suite expects `/example/`",
};

test("the suite holds all 31 cases", () => {
  assert.equal(cases.length, 31);
});

for (const c of cases) {
  const reason = NOT_S3[c.id];
  if (c.id === "post-sts-token/post-sts-header-after") {
    test(`${c.id}: its canonical request, string to sign and Authorization match the suite without the token`, () => {
      const auth = authenticate(toFacts(c.req, c.authz));
      assert.equal(buildCanonicalRequest(auth), c.creq);
      assert.equal(verifySignature(auth, key), null);
    });
    test(`${c.id} does not apply to S3: a security token added after signing is an unsigned x-amz-* header, refused`, () => {
      const result = expectError(authenticateRequest(toFacts(c.sreq), options), "AccessDenied", 403);
      assert.deepEqual(result.fields, [["HeadersNotSigned", "x-amz-security-token"]]);
    });
    continue;
  }
  if (reason !== undefined) {
    test(`${c.id} does not apply to S3 (${reason}): the path is kept and the suite's signature fails`, () => {
      const auth = authenticate(toFacts(c.req, c.authz));
      const ours = buildCanonicalRequest(auth);
      assert.equal(typeof ours, "string");
      const [ourMethod, ourUri, ...ourRest] = (ours as string).split("\n");
      const [method, uri, ...rest] = c.creq.split("\n");
      assert.equal(ourMethod, method);
      assert.equal(ourUri, c.req.rawPath, "the canonical URI is the path as sent");
      assert.notEqual(ourUri, uri);
      assert.deepEqual(ourRest, rest, "every other line is the suite's");
      assert.equal(verifySignature(auth, key)?.code, "SignatureDoesNotMatch");
    });
    continue;
  }
  test(`${c.id}: canonical request, string to sign and Authorization match the suite`, () => {
    const auth = authenticate(toFacts(c.req, c.authz));
    const canonicalRequest = buildCanonicalRequest(auth);
    assert.equal(canonicalRequest, c.creq);
    const stringToSign = buildStringToSign(canonicalRequest as string, auth.amzDate, auth.scope);
    assert.equal(stringToSign, c.sts);
    const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
    assert.equal(
      formatAuthorizationHeader(auth.accessKeyId, auth.scope, auth.signedHeaders.join(";"), signature),
      c.authz,
    );
    assert.equal(verifySignature(auth, key), null);
  });
  test(`${c.id}: the signed request (.sreq) verifies`, () => {
    assert.equal(verifySignature(authenticate(toFacts(c.sreq)), key), null);
  });
}
