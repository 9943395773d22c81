/**
 * SigV2's answers besides the documented vectors (sigv2-vectors.test.ts): off by default, mixed mechanisms,
 * time and expiry, malformed input, what is and is not signed, and the constant-time comparison's verdicts.
 * Signatures are made here from hand-written StringToSigns, independent of the code under test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AuthOptions,
  authenticateRequest,
  type RequestFacts,
  signStringV2,
  verifySignatureV2,
  virtualHostBucket,
} from "../src/index.js";
import { expectAuthenticated, expectError, field } from "./support/assertions.js";

const AKID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const DATE = "Wed, 15 Jan 2025 12:00:00 GMT";
const ON: Partial<AuthOptions> = { sigV2: true, nowMs: NOW_MS };

type Header = [string, string];

function headerRequest(
  stringToSign: string,
  method: string,
  target: string,
  headers: Header[],
  secret = SECRET,
): RequestFacts {
  const q = target.indexOf("?");
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers: [...headers, ["authorization", `AWS ${AKID}:${signStringV2(secret, stringToSign)}`]],
  };
}

function queryRequest(stringToSign: string, path: string, expires: number, extraQuery = ""): RequestFacts {
  const signature = encodeURIComponent(signStringV2(SECRET, stringToSign));
  return {
    method: "GET",
    rawPath: path,
    rawQuery: `AWSAccessKeyId=${AKID}&Expires=${expires}&Signature=${signature}${extraQuery}`,
    headers: [["host", "127.0.0.1:6190"]],
  };
}

const GET_OBJECT = headerRequest(
  "GET\n\n\nWed, 15 Jan 2025 12:00:00 GMT\n/data/a.txt",
  "GET",
  "/data/a.txt",
  [
    ["host", "127.0.0.1:6190"],
    ["date", DATE],
  ],
);

function verified(facts: RequestFacts, options: Partial<AuthOptions> = ON) {
  const auth = expectAuthenticated(authenticateRequest(facts, options));
  return { auth, failure: verifySignatureV2(auth, SECRET) };
}

test("SigV2 is refused as today unless auth.sigV2: 400 InvalidRequest for the header and the query", () => {
  for (const facts of [GET_OBJECT, queryRequest("GET\n\n\n1\n/data/a.txt", "/data/a.txt", NOW_S + 60)]) {
    const error = expectError(authenticateRequest(facts, { nowMs: NOW_MS }), "InvalidRequest", 400);
    assert.match(error.message, /Please use AWS4-HMAC-SHA256/);
  }
});

test("a header-signed SigV2 request verifies; its payload is unsigned and it is header, version 2", () => {
  const { auth, failure } = verified(GET_OBJECT);
  assert.equal(failure, null);
  assert.equal(auth.mechanism, "header");
  assert.equal(auth.signatureVersion, 2);
  assert.deepEqual(auth.payload, { kind: "unsigned" });
  assert.equal(auth.requestTimeMs, NOW_MS);
});

test("two mechanisms at once are 400 InvalidArgument: V2 header + V4 query, V2 + V4 query, V2 header + V2 query", () => {
  const v4Query =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20250115%2Fus-east-1%2Fs3%2Faws4_request";
  const cases: RequestFacts[] = [
    { ...GET_OBJECT, rawQuery: v4Query },
    {
      ...queryRequest("x", "/data/a.txt", NOW_S + 60),
      rawQuery: `AWSAccessKeyId=${AKID}&Signature=x&${v4Query}`,
    },
    { ...GET_OBJECT, rawQuery: `AWSAccessKeyId=${AKID}&Expires=${NOW_S + 60}&Signature=x` },
  ];
  for (const facts of cases) {
    for (const options of [ON, { nowMs: NOW_MS }]) {
      const error = expectError(authenticateRequest(facts, options), "InvalidArgument", 400);
      assert.match(error.message, /Only one auth mechanism allowed/);
    }
  }
});

test("a V2 presigned URL verifies until Expires, then is 403 AccessDenied 'Request has expired'", () => {
  const expires = NOW_S + 300;
  const facts = queryRequest(`GET\n\n\n${expires}\n/data/a.txt`, "/data/a.txt", expires);
  const { auth, failure } = verified(facts);
  assert.equal(failure, null);
  assert.equal(auth.mechanism, "presigned");
  assert.equal(auth.requestTimeMs + (auth.presignExpiresSeconds ?? 0) * 1000, expires * 1000);
  const late = expectError(
    authenticateRequest(facts, { ...ON, nowMs: (expires + 1) * 1000 }),
    "AccessDenied",
    403,
  );
  assert.equal(late.message, "Request has expired");
  assert.equal(field(late, "Expires"), "2025-01-15T12:05:00Z");
});

test("an Expires further ahead than auth.maxPresignExpiry is 400 AuthorizationQueryParametersError", () => {
  const expires = NOW_S + 3601;
  const facts = queryRequest(`GET\n\n\n${expires}\n/data/a.txt`, "/data/a.txt", expires);
  expectError(
    authenticateRequest(facts, { ...ON, maxPresignExpiresSeconds: 3600 }),
    "AuthorizationQueryParametersError",
    400,
  );
  expectAuthenticated(authenticateRequest(facts, { ...ON, maxPresignExpiresSeconds: 3601 }));
});

test("a V2 query without Signature or Expires is 403 AccessDenied; a repeated one is 400", () => {
  for (const rawQuery of [
    `AWSAccessKeyId=${AKID}&Expires=${NOW_S}`,
    `AWSAccessKeyId=${AKID}&Signature=abc`,
  ]) {
    expectError(
      authenticateRequest({ method: "GET", rawPath: "/data/a", rawQuery, headers: [] }, ON),
      "AccessDenied",
      403,
    );
  }
  const twice = `AWSAccessKeyId=${AKID}&Expires=${NOW_S}&Signature=a&Signature=b`;
  expectError(
    authenticateRequest({ method: "GET", rawPath: "/data/a", rawQuery: twice, headers: [] }, ON),
    "AuthorizationQueryParametersError",
    400,
  );
  const notNumber = `AWSAccessKeyId=${AKID}&Expires=tomorrow&Signature=a`;
  expectError(
    authenticateRequest({ method: "GET", rawPath: "/data/a", rawQuery: notNumber, headers: [] }, ON),
    "AuthorizationQueryParametersError",
    400,
  );
});

test("header auth needs a Date or x-amz-date within maxSkew: 403 AccessDenied / RequestTimeTooSkewed", () => {
  const noDate = { ...GET_OBJECT, headers: GET_OBJECT.headers.filter(([n]) => n !== "date") };
  expectError(authenticateRequest(noDate, ON), "AccessDenied", 403);
  const badDate = { ...GET_OBJECT, headers: [...noDate.headers, ["date", "yesterday"] as const] };
  expectError(authenticateRequest(badDate, ON), "AccessDenied", 403);
  const skewed = expectError(
    authenticateRequest(GET_OBJECT, { ...ON, nowMs: NOW_MS + 900_001 }),
    "RequestTimeTooSkewed",
    403,
  );
  assert.equal(field(skewed, "RequestTime"), DATE);
  expectAuthenticated(authenticateRequest(GET_OBJECT, { ...ON, nowMs: NOW_MS + 900_000 }));
});

test("with x-amz-date (s3cmd's +0000 form) the Date line is empty and x-amz-date is signed", () => {
  const amzDate = "Wed, 15 Jan 2025 12:00:00 +0000";
  const facts = headerRequest(`PUT\n\n\n\nx-amz-date:${amzDate}\n/data/b.txt`, "PUT", "/data/b.txt", [
    ["host", "localhost"],
    ["date", "Mon, 01 Jan 2024 00:00:00 GMT"],
    ["x-amz-date", amzDate],
  ]);
  const { auth, failure } = verified(facts);
  assert.equal(failure, null);
  assert.equal(auth.requestTimeMs, NOW_MS, "x-amz-date wins over a stale Date");
});

test("a wrong signature or secret is 403 SignatureDoesNotMatch with StringToSign and the signature sent", () => {
  const wrongSecret = headerRequest(
    "GET\n\n\nWed, 15 Jan 2025 12:00:00 GMT\n/data/a.txt",
    "GET",
    "/data/a.txt",
    [
      ["host", "h"],
      ["date", DATE],
    ],
    "not-the-secret",
  );
  const error = expectError(verified(wrongSecret).failure, "SignatureDoesNotMatch", 403);
  assert.equal(field(error, "StringToSign"), "GET\n\n\nWed, 15 Jan 2025 12:00:00 GMT\n/data/a.txt");
  assert.equal(field(error, "AWSAccessKeyId"), AKID);
  assert.ok(field(error, "StringToSignBytes")?.startsWith("47 45 54 0a"));
  for (const signature of ["", "short", "ÿ".repeat(28), `${"A".repeat(27)}=`]) {
    const facts = {
      ...GET_OBJECT,
      headers: [...GET_OBJECT.headers.slice(0, -1), ["authorization", `AWS ${AKID}:${signature}`] as const],
    };
    const result = authenticateRequest(facts, ON);
    if (signature === "") expectError(result, "InvalidArgument", 400);
    else expectError(verifySignatureV2(expectAuthenticated(result), SECRET), "SignatureDoesNotMatch", 403);
  }
});

test("every signed part changes the signature: method, path, Content-MD5, Content-Type, x-amz-*, sub-resource", () => {
  const base: Header[] = [
    ["host", "h"],
    ["date", DATE],
    ["content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="],
    ["content-type", "text/plain"],
    ["x-amz-meta-a", "1"],
  ];
  const sts = `PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n${DATE}\nx-amz-meta-a:1\n/data/k?tagging`;
  const good = headerRequest(sts, "PUT", "/data/k?tagging", base);
  assert.equal(verified(good).failure, null);
  const replace = (name: string, value: string) => ({
    ...good,
    headers: good.headers.map(([n, v]) => [n, n === name ? value : v] as const),
  });
  const tampered: RequestFacts[] = [
    { ...good, method: "POST" },
    { ...good, rawPath: "/data/other" },
    { ...good, rawQuery: "acl" },
    replace("content-md5", "AAAAAAAAAAAAAAAAAAAAAA=="),
    replace("content-type", "text/html"),
    replace("x-amz-meta-a", "2"),
    { ...good, headers: [...good.headers, ["x-amz-acl", "public-read"]] },
  ];
  for (const facts of tampered) expectError(verified(facts).failure, "SignatureDoesNotMatch", 403);
  // Not signed by SigV2: the Host and other headers.
  assert.equal(verified(replace("host", "elsewhere")).failure, null);
});

test("x-amz-* query parameters are signed as headers (a V2 presigner hoists them there)", () => {
  const expires = NOW_S + 60;
  const sts = `GET\n\n\n${expires}\nx-amz-security-token:tok en\n/data/a.txt`;
  const signed = queryRequest(sts, "/data/a.txt", expires, "&x-amz-security-token=tok%20en");
  const { auth, failure } = verified(signed);
  assert.equal(failure, null);
  assert.equal(auth.securityToken, "tok en");
  const added = queryRequest(
    `GET\n\n\n${expires}\n/data/a.txt`,
    "/data/a.txt",
    expires,
    "&x-amz-acl=public-read",
  );
  expectError(verified(added).failure, "SignatureDoesNotMatch", 403);
});

test("sub-resources are signed sorted, valueless as ?name, values decoded; listing parameters are not", () => {
  const sts = `GET\n\n\n${DATE}\n/data/k?partNumber=2&response-content-type=text/plain; a=b&uploadId=x~1`;
  const facts = headerRequest(
    sts,
    "GET",
    "/data/k?uploadId=x~1&response-content-type=text%2Fplain%3B+a%3Db&partNumber=2",
    [
      ["host", "h"],
      ["date", DATE],
    ],
  );
  assert.equal(verified(facts).failure, null);
  const list = headerRequest(
    `GET\n\n\n${DATE}\n/data?versions`,
    "GET",
    "/data?versions&prefix=p&max-keys=5",
    [
      ["host", "h"],
      ["date", DATE],
    ],
  );
  assert.equal(verified(list).failure, null);
});

test("a query parameter SigV2 cannot sign that could select another operation is 400 InvalidRequest", () => {
  for (const query of ["retention", "legal-hold", "encryption", "x%2Damz-acl=1", "protection"]) {
    const facts = { ...GET_OBJECT, rawQuery: query };
    expectError(authenticateRequest(facts, ON), "InvalidRequest", 400);
  }
});

test("a signature with an unescaped + in the query is read as +, not as a space", () => {
  const expires = NOW_S + 60;
  const sts = `GET\n\n\n${expires}\n/data/x`;
  let n = 0;
  let signature = signStringV2(SECRET, sts);
  // Find a path whose signature contains a `+`, so the raw form differs from the escaped one.
  while (!signature.includes("+")) {
    n++;
    signature = signStringV2(SECRET, `${sts}${n}`);
  }
  const facts: RequestFacts = {
    method: "GET",
    rawPath: `/data/x${n}`,
    rawQuery: `AWSAccessKeyId=${AKID}&Expires=${expires}&Signature=${signature}`,
    headers: [],
  };
  assert.equal(verified(facts).failure, null);
});

test("signed aws-chunked framing needs SigV4: 400 InvalidRequest; a hex x-amz-content-sha256 is honoured", () => {
  const withSha = (value: string) =>
    headerRequest(`PUT\n\n\n${DATE}\nx-amz-content-sha256:${value}\n/data/k`, "PUT", "/data/k", [
      ["host", "h"],
      ["date", DATE],
      ["x-amz-content-sha256", value],
    ]);
  expectError(authenticateRequest(withSha("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ON), "InvalidRequest", 400);
  const hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  assert.deepEqual(verified(withSha(hex)).auth.payload, { kind: "sha256", sha256Hex: hex });
});

test("a malformed AWS header is 400 InvalidArgument", () => {
  for (const value of ["AWS ", "AWS nocolon", `AWS :sig`, `AWS ${AKID}:`, `AWS a b:sig`]) {
    const facts = {
      ...GET_OBJECT,
      headers: [...GET_OBJECT.headers.slice(0, -1), ["authorization", value] as const],
    };
    expectError(authenticateRequest(facts, ON), "InvalidArgument", 400);
  }
});

test("virtual-hosted requests sign /bucket + path, found as @osp/s3's resolveTarget finds it", () => {
  const domains = ["s3.example", "example"];
  assert.equal(virtualHostBucket("Data.S3.Example.:6190", domains), "data");
  assert.equal(virtualHostBucket("s3.example", domains), null);
  assert.equal(virtualHostBucket("a.b.example", domains), "a.b");
  assert.equal(virtualHostBucket("127.0.0.1:6190", domains), null);
  const facts = headerRequest(`GET\n\n\n${DATE}\n/data/`, "GET", "/", [
    ["host", "data.s3.example"],
    ["date", DATE],
  ]);
  assert.equal(verified(facts, { ...ON, virtualHostDomains: domains }).failure, null);
  expectError(verified(facts).failure, "SignatureDoesNotMatch", 403);
});

test("random SigV2 headers and queries never throw: an S3Error or a request whose verification answers", () => {
  const seed = Number(process.env.OSP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const pieces = [
    "%",
    "%2",
    "%2F",
    "%G1",
    "%E6%96%87",
    "%FF",
    "+",
    "=",
    "&",
    "?",
    ":",
    " ",
    "\t",
    "é",
    "\u0000",
  ];
  const words = [
    "AWS",
    AKID,
    "acl",
    "uploadId",
    "x-amz-meta-a",
    "Expires",
    "Signature",
    "AWSAccessKeyId",
    "/",
    "a",
  ];
  const junk = () => {
    let out = "";
    for (let i = Math.floor(next() * 8); i > 0; i--) out += next() < 0.5 ? pick(pieces) : pick(words);
    return out;
  };
  const cases = Math.min(Number(process.env.OSP_FUZZ_CASES ?? 20_000), 20_000);
  for (let i = 0; i < cases; i++) {
    const query =
      next() < 0.5 ? `AWSAccessKeyId=${junk()}&Expires=${junk()}&Signature=${junk()}&${junk()}` : junk();
    const headers: Array<readonly [string, string]> = [
      ["host", next() < 0.5 ? "data.s3.test" : junk()],
      [pick(["date", "x-amz-date", "x-amz-meta-x", "content-md5"]), next() < 0.5 ? DATE : junk()],
    ];
    if (next() < 0.5) headers.push(["authorization", `AWS ${junk()}`]);
    const facts: RequestFacts = {
      method: pick(["GET", "PUT", ""]),
      rawPath: `/${junk()}`,
      rawQuery: query,
      headers,
    };
    try {
      const result = authenticateRequest(facts, { ...ON, virtualHostDomains: ["s3.test"] });
      if (result !== null && "signatureVersion" in result) verifySignatureV2(result, SECRET);
    } catch (error) {
      assert.fail(`seed ${seed}, case ${i}: ${JSON.stringify(facts)} threw ${String(error)}`);
    }
  }
});
