/**
 * The S3 vectors of `fixtures/s3-sigv4-vectors.json` (7 published by AWS, 17 derived and cross-checked with
 * smithy; docs/s3-sigv4.md "Test vectors"), table-driven: for header auth, presigned URLs and the seed
 * signature of the two aws-chunked uploads, the verifier rebuilds the canonical request, string to sign,
 * signing key and signature, and the signer (`signRequest` / `presignUrl`) reproduces them. Chunk and trailer
 * signatures belong to the chunk decoder's tests.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import {
  authenticateRequest,
  buildCanonicalRequest,
  buildStringToSign,
  deriveSigningKey,
  parseAmzDate,
  parseAuthorizationHeader,
  presignUrl,
  type RequestFacts,
  signRequest,
  verifySignature,
} from "../src/index.js";
import { expectAuthenticated } from "./support/assertions.js";
import { loadS3Vectors, type S3Vector } from "./support/fixtures.js";

const vectors = loadS3Vectors();

function expectedSignature(v: S3Vector): string {
  const signature = v.expected.signature ?? v.expected.seedSignature;
  assert.ok(signature !== undefined, `${v.id} has no signature`);
  return signature;
}

/**
 * The request as the gateway would see it. Header-auth vectors get their Authorization header: the printed
 * one where the doc has it, else (the signed-trailer example, whose printed header contradicts its own
 * canonical request: see its notes) one built from the vector's signed headers and seed signature.
 */
function toFacts(v: S3Vector): RequestFacts {
  const headers: Array<[string, string]> = v.headers.map(([name, value]) => [name.toLowerCase(), value]);
  if (v.kind !== "presigned") {
    headers.push([
      "authorization",
      v.expected.authorization ??
        `AWS4-HMAC-SHA256 Credential=${v.accessKeyId}/${v.date}/${v.region}/${v.service}/aws4_request,SignedHeaders=${v.signedHeaders},Signature=${expectedSignature(v)}`,
    ]);
  }
  return { method: v.method, rawPath: v.rawPath, rawQuery: v.rawQuery, headers };
}

function nowOf(v: S3Vector): number {
  const ms = parseAmzDate(v.amzDate);
  assert.ok(ms !== null);
  return ms;
}

test("the vectors file holds 24 vectors: 7 published by AWS and 17 derived", () => {
  assert.equal(vectors.length, 24);
  assert.equal(vectors.filter((v) => v.official).length, 7);
});

for (const v of vectors) {
  const label = `${v.id} (${v.official ? "AWS" : "derived"}, ${v.kind})`;
  const plusInPathIsSpace = v.s3Options?.plusInPathIsSpace ?? false;

  test(`${label}: canonical request, string to sign, signing key and signature match`, () => {
    const auth = expectAuthenticated(authenticateRequest(toFacts(v), { nowMs: nowOf(v), plusInPathIsSpace }));
    assert.equal(auth.mechanism, v.kind === "presigned" ? "presigned" : "header");
    const canonicalRequest = buildCanonicalRequest(auth);
    assert.equal(canonicalRequest, v.expected.canonicalRequest);
    const stringToSign = buildStringToSign(canonicalRequest as string, auth.amzDate, auth.scope);
    assert.equal(stringToSign, v.expected.stringToSign);
    const key = deriveSigningKey(v.secretAccessKey, v.date, v.region, v.service);
    assert.equal(key.toString("hex"), v.expected.signingKeyHex);
    assert.equal(createHmac("sha256", key).update(stringToSign).digest("hex"), expectedSignature(v));
    assert.equal(verifySignature(auth, key), null);
    assert.equal(auth.signature, expectedSignature(v));
  });

  if (v.kind === "presigned") {
    test(`${label}: presignUrl reproduces the URL`, () => {
      const url = presignUrl({
        method: v.method,
        rawPath: v.rawPath,
        host: v.host,
        accessKeyId: v.accessKeyId,
        secretAccessKey: v.secretAccessKey,
        region: v.region,
        expiresSeconds: v.expiresSeconds ?? 0,
        nowMs: nowOf(v),
        ...(v.sessionToken === undefined ? {} : { securityToken: v.sessionToken }),
      });
      assert.equal(url, `${v.rawPath}?${v.rawQuery}`);
    });
    continue;
  }

  if (plusInPathIsSpace) {
    test(`${label}: signRequest is not used for a raw "+" path, since it always reads "+" as a literal plus`, {
      skip: "upstream requests are sent with %2B for a plus; the S3 space rule only concerns hand-made client paths",
    }, () => {});
    continue;
  }

  test(`${label}: signRequest reproduces the signature when told to sign the same headers`, () => {
    const signedNames = new Set(v.signedHeaders.split(";"));
    const owned = new Set(["authorization", "x-amz-date", "x-amz-content-sha256"]);
    const signed = signRequest({
      method: v.method,
      rawPath: v.rawPath,
      rawQuery: v.rawQuery,
      headers: v.headers.filter(([name]) => !owned.has(name.toLowerCase())),
      payloadHash: v.payloadHash,
      accessKeyId: v.accessKeyId,
      secretAccessKey: v.secretAccessKey,
      region: v.region,
      nowMs: nowOf(v),
      signedHeaderFilter: (name) => signedNames.has(name),
    });
    assert.equal(signed.signedHeaders, v.signedHeaders);
    assert.equal(signed.canonicalRequest, v.expected.canonicalRequest);
    assert.equal(signed.stringToSign, v.expected.stringToSign);
    assert.equal(signed.signature, expectedSignature(v));
    assert.equal(signed.amzDate, v.amzDate);
    if (v.expected.authorization !== undefined) {
      assert.deepEqual(
        parseAuthorizationHeader(signed.authorization),
        parseAuthorizationHeader(v.expected.authorization),
      );
    }
  });
}
