/**
 * Every error authenticateRequest / verifySignature answers, each reached by a realistic request:
 * code + status (+ the fields clients and operators read), docs/s3-sigv4.md "Choosing the mechanism" to
 * "Presigned URLs", and "SigV2".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { authenticateRequest, type RequestFacts, verifySignature } from "../src/index.js";
import { expectAuthenticated, expectError, field } from "./support/assertions.js";
import {
  AKID,
  HOST,
  headerOf,
  NOW_MS,
  presignedRequest,
  REGION,
  SIGNING_KEY,
  signedRequest,
  withHeaders,
  withParam,
} from "./support/requests.js";

const MINUTE = 60_000;

function authenticate(facts: RequestFacts, options: Parameters<typeof authenticateRequest>[1] = {}) {
  return authenticateRequest(facts, { nowMs: NOW_MS, ...options });
}

/** The Authorization header of a signed request with one component's text replaced. */
function withAuthorization(facts: RequestFacts, change: (value: string) => string): RequestFacts {
  return withHeaders(facts, { authorization: change(headerOf(facts, "authorization")) });
}

// --- picking the mechanism -----------------------------------------------------------------------------

test("treats a request without any authentication as anonymous", () => {
  assert.equal(
    authenticate({ method: "GET", rawPath: "/b/k", rawQuery: "x-id=GetObject", headers: [["host", HOST]] }),
    null,
  );
});

test("refuses a Bearer Authorization header as an unsupported authorization type, echoing it", () => {
  const facts = withHeaders(signedRequest(), { authorization: "Bearer eyJhbGciOi" });
  const error = expectError(authenticate(facts), "InvalidArgument", 400);
  assert.equal(error.message, "Unsupported Authorization Type");
  assert.deepEqual(error.fields, [
    ["ArgumentName", "Authorization"],
    ["ArgumentValue", "Bearer eyJhbGciOi"],
  ]);
});

test("refuses a Basic Authorization header as an unsupported authorization type", () => {
  expectError(
    authenticate(withHeaders(signedRequest(), { authorization: "Basic dXNlcjpwYXNz" })),
    "InvalidArgument",
    400,
  );
});

test("refuses a SigV2 Authorization header with InvalidRequest", () => {
  const facts = withHeaders(signedRequest(), { authorization: `AWS ${AKID}:frJIUN8DYpKDtOLCwo//yllqDzg=` });
  const error = expectError(authenticate(facts), "InvalidRequest", 400);
  assert.match(error.message, /Please use AWS4-HMAC-SHA256/);
});

test("refuses a SigV2 presigned query (AWSAccessKeyId, Expires, Signature) with InvalidRequest", () => {
  const facts: RequestFacts = {
    method: "GET",
    rawPath: "/photos/cat.jpg",
    rawQuery: `AWSAccessKeyId=${AKID}&Expires=1369353600&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D`,
    headers: [["host", HOST]],
  };
  expectError(authenticate(facts), "InvalidRequest", 400);
});

test("refuses a SigV4a (AWS4-ECDSA-P256-SHA256) Authorization header with InvalidRequest", () => {
  const facts = withAuthorization(signedRequest(), (v) =>
    v.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
  );
  expectError(authenticate(facts), "InvalidRequest", 400);
});

test("refuses a SigV4a presigned URL with InvalidRequest", () => {
  const facts = withParam(presignedRequest(), "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256");
  expectError(authenticate(facts), "InvalidRequest", 400);
});

test("refuses a request carrying both an Authorization header and a presigned query", () => {
  const presigned = presignedRequest();
  const facts = { ...signedRequest(), rawQuery: presigned.rawQuery };
  const error = expectError(authenticate(facts), "InvalidArgument", 400);
  assert.match(error.message, /Only one auth mechanism allowed/);
  assert.equal(field(error, "ArgumentName"), "Authorization");
});

test("refuses an Authorization header next to a SigV2 Signature query parameter", () => {
  const facts = { ...signedRequest(), rawQuery: "Signature=abc" };
  expectError(authenticate(facts), "InvalidArgument", 400);
});

test("refuses a request with two Authorization headers", () => {
  const facts = signedRequest();
  const twice = {
    ...facts,
    headers: [...facts.headers, ["authorization", headerOf(facts, "authorization")] as const],
  };
  expectError(authenticate(twice), "AuthorizationHeaderMalformed", 400);
});

// --- the Authorization header ----------------------------------------------------------------------------

test("accepts the components in any order, separated by ',' or ', '", () => {
  const facts = withAuthorization(signedRequest(), (v) => {
    const [credential, signedHeaders, signature] = v.slice("AWS4-HMAC-SHA256 ".length).split(", ");
    return `AWS4-HMAC-SHA256 ${signature},${credential} ,  ${signedHeaders}`;
  });
  const auth = expectAuthenticated(authenticate(facts));
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
});

for (const [what, change] of [
  ["a missing Signature", (v: string) => v.replace(/, Signature=[0-9a-f]+/, "")],
  ["a missing SignedHeaders", (v: string) => v.replace(/, SignedHeaders=[^,]+/, "")],
  ["a missing Credential", (v: string) => v.replace(/Credential=[^,]+, /, "")],
  ["a repeated Credential", (v: string) => v.replace(/(Credential=[^,]+), SignedHeaders=[^,]+/, "$1, $1")],
  ["an unknown component", (v: string) => `${v}, Foo=bar`],
  ["a trailing comma", (v: string) => `${v},`],
  ["a credential with four parts", (v: string) => v.replace(`${AKID}/`, "")],
  ["a credential date that is not 8 digits", (v: string) => v.replace("/20130524/", "/2013-05-24/")],
  ["an empty SignedHeaders name", (v: string) => v.replace("SignedHeaders=host;", "SignedHeaders=host;;")],
  ["a value over 16 KiB", (v: string) => `${v}${" ".repeat(17_000)}x`],
  ["thousands of components", (v: string) => `${v}${", A=b".repeat(5_000)}`],
] as const) {
  test(`refuses an Authorization header with ${what} as AuthorizationHeaderMalformed`, () => {
    expectError(
      authenticate(withAuthorization(signedRequest(), change)),
      "AuthorizationHeaderMalformed",
      400,
    );
  });
}

test("refuses a credential whose terminator is not aws4_request", () => {
  const facts = withAuthorization(signedRequest(), (v) => v.replace("/aws4_request", "/aws4_reqest"));
  const error = expectError(authenticate(facts), "AuthorizationHeaderMalformed", 400);
  assert.match(error.message, /incorrect terminal "aws4_reqest"/);
});

test("refuses a credential scoped to another service", () => {
  const error = expectError(
    authenticate(signedRequest({ service: "s4" })),
    "AuthorizationHeaderMalformed",
    400,
  );
  assert.match(error.message, /incorrect service "s4"/);
});

test("accepts any region by default, as IBM COS does", () => {
  expectAuthenticated(authenticate(signedRequest({ region: "eu-de-anything" })));
});

test("refuses a region outside allowedRegions, naming the expected region", () => {
  const facts = signedRequest({ region: "us-east-1" });
  const error = expectError(
    authenticate(facts, { allowedRegions: new Set(["eu-central-1"]) }),
    "AuthorizationHeaderMalformed",
    400,
  );
  assert.equal(field(error, "Region"), "eu-central-1");
  assert.deepEqual(error.headers, [["x-amz-bucket-region", "eu-central-1"]]);
  assert.match(error.message, /the region 'us-east-1' is wrong; expecting 'eu-central-1'/);
});

test("refuses a credential date that differs from x-amz-date", () => {
  const facts = withAuthorization(signedRequest(), (v) => v.replace("/20130524/", "/20130523/"));
  const error = expectError(authenticate(facts), "AuthorizationHeaderMalformed", 400);
  assert.match(error.message, /Invalid credential date/);
});

// --- dates and clock skew --------------------------------------------------------------------------------

test("refuses a request with neither x-amz-date nor Date", () => {
  const facts = withHeaders(signedRequest(), { "x-amz-date": null });
  const error = expectError(authenticate(facts), "AccessDenied", 403);
  assert.match(error.message, /requires a valid Date or x-amz-date header/);
});

test("refuses an x-amz-date that is not yyyyMMdd'T'HHmmss'Z'", () => {
  for (const bad of [
    "2013-05-24T00:00:00Z",
    "20130524T000000",
    "20130532T000000Z",
    "20130229T000000Z",
    "20130524T240000Z",
  ]) {
    expectError(authenticate(withHeaders(signedRequest(), { "x-amz-date": bad })), "AccessDenied", 403);
  }
});

test("uses the Date header when x-amz-date is absent, signing its instant in x-amz-date form", () => {
  const facts = withHeaders(
    signedRequest({
      headers: [
        ["host", HOST],
        ["date", "Fri, 24 May 2013 00:00:00 GMT"],
      ],
    }),
    {
      "x-amz-date": null,
    },
  );
  // Signed with x-amz-date present: the signature no longer matches, but authentication itself passes.
  const auth = expectAuthenticated(authenticate(facts));
  assert.equal(auth.amzDate, "20130524T000000Z");
  assert.equal(auth.requestTimeMs, NOW_MS);
});

test("lets x-amz-date win over Date", () => {
  const facts = signedRequest({
    headers: [
      ["host", HOST],
      ["date", "Thu, 01 Jan 2009 00:00:00 GMT"],
    ],
  });
  const auth = expectAuthenticated(authenticate(facts));
  assert.equal(auth.amzDate, "20130524T000000Z");
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
});

test("rejects a request whose x-amz-date is 16 minutes old as RequestTimeTooSkewed", () => {
  const error = expectError(
    authenticate(signedRequest(), { nowMs: NOW_MS + 16 * MINUTE }),
    "RequestTimeTooSkewed",
    403,
  );
  assert.deepEqual(error.fields, [
    ["RequestTime", "20130524T000000Z"],
    ["ServerTime", "2013-05-24T00:16:00Z"],
    ["MaxAllowedSkewMilliseconds", "900000"],
  ]);
});

test("rejects a request whose x-amz-date is 16 minutes in the future", () => {
  expectError(authenticate(signedRequest(), { nowMs: NOW_MS - 16 * MINUTE }), "RequestTimeTooSkewed", 403);
});

test("accepts a request whose x-amz-date is 14 minutes old, and honours a configured skew", () => {
  expectAuthenticated(authenticate(signedRequest(), { nowMs: NOW_MS + 14 * MINUTE }));
  const error = expectError(
    authenticate(signedRequest(), { nowMs: NOW_MS + 2 * MINUTE, maxSkewMs: MINUTE }),
    "RequestTimeTooSkewed",
  );
  assert.equal(field(error, "MaxAllowedSkewMilliseconds"), "60000");
});

// --- x-amz-content-sha256 --------------------------------------------------------------------------------

test("requires x-amz-content-sha256 for header authentication", () => {
  const facts = withHeaders(signedRequest(), { "x-amz-content-sha256": null });
  const error = expectError(authenticate(facts), "InvalidRequest", 400);
  assert.equal(error.message, "Missing required header for this request: x-amz-content-sha256");
});

test("refuses an x-amz-content-sha256 that is neither a hash nor a known mode, naming the header", () => {
  for (const bad of ["not-a-hash", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "e3b0c442", "z".repeat(64)]) {
    const error = expectError(authenticate(signedRequest({ payloadHash: bad })), "InvalidArgument", 400);
    assert.equal(field(error, "ArgumentName"), "x-amz-content-sha256");
    assert.equal(field(error, "ArgumentValue"), bad);
  }
});

test("maps each x-amz-content-sha256 value to its payload mode", () => {
  const hash = "44CE7DD67C959E0D3524FFAC1771DFBBA87D2B6B4B4E99E42034A8B803F8B072";
  const cases = [
    ["UNSIGNED-PAYLOAD", { kind: "unsigned" }],
    [hash, { kind: "sha256", sha256Hex: hash.toLowerCase() }],
    ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", { kind: "streaming-signed" }],
    ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", { kind: "streaming-signed-trailer" }],
    ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", { kind: "streaming-unsigned-trailer" }],
  ] as const;
  for (const [value, payload] of cases) {
    const auth = expectAuthenticated(authenticate(signedRequest({ payloadHash: value })));
    assert.deepEqual(auth.payload, payload);
    assert.equal(auth.payloadHash, value);
    assert.equal(verifySignature(auth, SIGNING_KEY), null);
  }
});

// --- headers that must be signed -------------------------------------------------------------------------

test("refuses an unsigned x-amz-* header, listing it in HeadersNotSigned", () => {
  const facts = withHeaders(signedRequest(), { "x-amz-acl": "public-read", "x-amz-meta-a": "1" });
  const error = expectError(authenticate(facts), "AccessDenied", 403);
  assert.deepEqual(error.fields, [["HeadersNotSigned", "x-amz-acl, x-amz-meta-a"]]);
});

test("refuses a request whose host header is not signed", () => {
  const facts = signedRequest({ signedHeaderFilter: () => false });
  const noHost = withAuthorization(facts, (v) => v.replace("SignedHeaders=host;", "SignedHeaders="));
  const error = expectError(authenticate(noHost), "AccessDenied", 403);
  assert.equal(field(error, "HeadersNotSigned"), "host");
});

test("does not require x-amz-content-sha256 itself to be signed", () => {
  const facts = withAuthorization(signedRequest(), (v) => v.replace("x-amz-content-sha256;", ""));
  expectAuthenticated(authenticate(facts));
});

// --- presigned URLs --------------------------------------------------------------------------------------

test("accepts a presigned URL until its expiry, then answers Request has expired with its times", () => {
  const facts = presignedRequest({ expiresSeconds: 900 });
  const auth = expectAuthenticated(authenticate(facts, { nowMs: NOW_MS + 900_000 }));
  assert.equal(auth.presignExpiresSeconds, 900);
  assert.deepEqual(auth.payload, { kind: "unsigned" });
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
  const error = expectError(authenticate(facts, { nowMs: NOW_MS + 900_001 }), "AccessDenied", 403);
  assert.equal(error.message, "Request has expired");
  assert.deepEqual(error.fields, [
    ["X-Amz-Expires", "900"],
    ["Expires", "2013-05-24T00:15:00Z"],
    ["ServerTime", "2013-05-24T00:15:00Z"],
  ]);
});

test("does not apply the 15-minute rule to an old but unexpired presigned URL", () => {
  expectAuthenticated(
    authenticate(presignedRequest({ expiresSeconds: 86_400 }), { nowMs: NOW_MS + 3_600_000 }),
  );
});

test("refuses a presigned URL dated more than 15 minutes in the future as not yet valid", () => {
  const error = expectError(
    authenticate(presignedRequest(), { nowMs: NOW_MS - 16 * MINUTE }),
    "AccessDenied",
    403,
  );
  assert.equal(error.message, "Request is not yet valid");
});

for (const name of [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
]) {
  test(`refuses a presigned URL without ${name}`, () => {
    const error = expectError(
      authenticate(withParam(presignedRequest(), name, null)),
      "AuthorizationQueryParametersError",
      400,
    );
    assert.match(error.message, /requires the X-Amz-Algorithm, X-Amz-Credential/);
  });
}

test("refuses a presigned URL without X-Amz-Signature", () => {
  expectError(
    authenticate(withParam(presignedRequest(), "X-Amz-Signature", null)),
    "AuthorizationQueryParametersError",
    400,
  );
});

test("refuses a presigned URL with a parameter given twice", () => {
  const facts = presignedRequest();
  const twice = { ...facts, rawQuery: `${facts.rawQuery}&X-Amz-Date=20130524T000000Z` };
  expectError(authenticate(twice), "AuthorizationQueryParametersError", 400);
});

for (const [expires, message] of [
  ["604801", /must be less than a week/],
  ["-1", /must be non-negative/],
  ["abc", /should be a number/],
  ["", /should be a number/],
  ["0", /at least 1/],
] as const) {
  test(`refuses X-Amz-Expires=${JSON.stringify(expires)}`, () => {
    const error = expectError(
      authenticate(withParam(presignedRequest(), "X-Amz-Expires", expires)),
      "AuthorizationQueryParametersError",
      400,
    );
    assert.match(error.message, message);
  });
}

test("honours a configured presign lifetime cap", () => {
  expectError(
    authenticate(presignedRequest({ expiresSeconds: 7200 }), { maxPresignExpiresSeconds: 3600 }),
    "AuthorizationQueryParametersError",
    400,
  );
});

test("refuses a malformed X-Amz-Date", () => {
  const error = expectError(
    authenticate(withParam(presignedRequest(), "X-Amz-Date", "2013-05-24")),
    "AuthorizationQueryParametersError",
    400,
  );
  assert.match(error.message, /ISO8601 Long Format/);
});

test("refuses a presigned credential date that differs from X-Amz-Date", () => {
  const facts = withParam(presignedRequest(), "X-Amz-Date", "20130525T000000Z");
  const error = expectError(
    authenticate(facts, { nowMs: NOW_MS + 86_400_000 }),
    "AuthorizationQueryParametersError",
    400,
  );
  assert.match(error.message, /Invalid credential date "20130524"/);
});

test("refuses an unknown X-Amz-Algorithm", () => {
  expectError(
    authenticate(withParam(presignedRequest(), "X-Amz-Algorithm", "HMAC-SHA1")),
    "AuthorizationQueryParametersError",
    400,
  );
});

test("refuses a malformed X-Amz-Credential", () => {
  const facts = withParam(presignedRequest(), "X-Amz-Credential", `${AKID}%2F20130524%2Fus-east-1%2Fs3`);
  const error = expectError(authenticate(facts), "AuthorizationQueryParametersError", 400);
  assert.match(error.message, /X-Amz-Credential/);
});

test("refuses a presigned URL for a region outside allowedRegions", () => {
  const error = expectError(
    authenticate(presignedRequest({ region: "us-west-2" }), { allowedRegions: new Set([REGION]) }),
    "AuthorizationQueryParametersError",
    400,
  );
  assert.equal(field(error, "Region"), REGION);
});

test("refuses a presigned request carrying an unsigned x-amz-* header", () => {
  const facts = withHeaders(presignedRequest(), { "x-amz-server-side-encryption": "AES256" });
  const error = expectError(authenticate(facts), "AccessDenied", 403);
  assert.equal(field(error, "HeadersNotSigned"), "x-amz-server-side-encryption");
});

test("accepts a presigned request whose x-amz-* headers are signed, and reads its payload header", () => {
  const headers: Array<[string, string]> = [["x-amz-server-side-encryption", "AES256"]];
  const facts = withHeaders(presignedRequest({ headers }), {
    "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  });
  const auth = expectAuthenticated(authenticate(facts));
  assert.deepEqual(auth.signedHeaders, ["host", "x-amz-server-side-encryption"]);
  assert.deepEqual(auth.payload, { kind: "streaming-unsigned-trailer" });
  assert.equal(auth.payloadHash, "UNSIGNED-PAYLOAD");
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
});

// --- malformed URIs --------------------------------------------------------------------------------------

for (const [where, facts] of [
  ["path", { ...signedRequest(), rawPath: "/photos/%G1.jpg" }],
  ["path (lone %)", { ...signedRequest(), rawPath: "/photos/100%" }],
  ["query", { ...signedRequest(), rawQuery: "prefix=%zz" }],
  ["presigned query", { ...presignedRequest(), rawQuery: `${presignedRequest().rawQuery}&a=%` }],
] as const) {
  test(`refuses a malformed percent-escape in the ${where} as InvalidURI`, () => {
    expectError(authenticate(facts), "InvalidURI", 400);
  });
}

// --- the signature -----------------------------------------------------------------------------------------

test("answers SignatureDoesNotMatch with S3's fields, hiding the canonical request by default", () => {
  const auth = expectAuthenticated(authenticate(signedRequest()));
  const wrongKey = Buffer.alloc(32, 7);
  const error = expectError(verifySignature(auth, wrongKey), "SignatureDoesNotMatch", 403);
  assert.deepEqual(
    error.fields.map(([name]) => name),
    ["AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes"],
  );
  assert.equal(field(error, "AWSAccessKeyId"), AKID);
  assert.equal(field(error, "SignatureProvided"), auth.signature);
  const stringToSign = field(error, "StringToSign")!;
  assert.match(
    stringToSign,
    /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/,
  );
  assert.equal(field(error, "StringToSignBytes")!.slice(0, 15), "41 57 53 34 2d ");
  assert.equal(field(error, "StringToSignBytes")!.split(" ").length, Buffer.byteLength(stringToSign));
});

test("exposes the canonical request and its bytes when asked to", () => {
  const auth = expectAuthenticated(authenticate(signedRequest()));
  const error = expectError(
    verifySignature(auth, Buffer.alloc(32), { exposeCanonicalRequest: true }),
    "SignatureDoesNotMatch",
  );
  assert.deepEqual(
    error.fields.map(([name]) => name),
    [
      "AWSAccessKeyId",
      "StringToSign",
      "SignatureProvided",
      "StringToSignBytes",
      "CanonicalRequest",
      "CanonicalRequestBytes",
    ],
  );
  const canonicalRequest = field(error, "CanonicalRequest")!;
  assert.match(canonicalRequest, /^GET\n\/photos\/cat\.jpg\n\nhost:/);
  assert.equal(field(error, "CanonicalRequestBytes")!.slice(0, 12), "47 45 54 0a ");
});

for (const [what, change] of [
  ["one hex digit changed", (s: string) => s.slice(0, -1) + (s.endsWith("0") ? "1" : "0")],
  ["upper-case hex", (s: string) => s.toUpperCase()],
  ["one digit short", (s: string) => s.slice(0, -1)],
  ["an extra digit", (s: string) => `${s}0`],
  // latin1 keeps the low byte of U+0161 ("š"): 0x61, "a". It must not pass for the hex digit it aliases.
  [
    "a non-ASCII character aliasing a hex digit",
    (s: string) => String.fromCharCode(0x100 + s.charCodeAt(0)) + s.slice(1),
  ],
] as const) {
  test(`answers SignatureDoesNotMatch for a signature with ${what}`, () => {
    const facts = withAuthorization(signedRequest(), (v) =>
      v.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${change(s)}`),
    );
    const auth = expectAuthenticated(authenticate(facts));
    expectError(verifySignature(auth, SIGNING_KEY), "SignatureDoesNotMatch", 403);
  });
}

test("verifies a raw '+' in the path as a space by default and as a plus when told to", () => {
  const spaced = { ...signedRequest({ rawPath: "/a%20b" }), rawPath: "/a+b" };
  assert.equal(verifySignature(expectAuthenticated(authenticate(spaced)), SIGNING_KEY), null);
  const literal = { ...signedRequest({ rawPath: "/a%2Bb" }), rawPath: "/a+b" };
  const auth = expectAuthenticated(authenticate(literal, { plusInPathIsSpace: false }));
  assert.equal(verifySignature(auth, SIGNING_KEY), null);
  assert.equal(
    verifySignature(auth, SIGNING_KEY, { plusInPathIsSpace: true })?.code,
    "SignatureDoesNotMatch",
  );
});
