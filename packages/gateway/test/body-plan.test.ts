import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, test } from "node:test";
import {
  type AuthenticatedRequest,
  authenticateRequest,
  type BodyVerifier,
  deriveSigningKey,
  encodeAwsChunked,
  signRequest,
} from "@osp/sigv4";
import { createVerifyPool } from "@osp/verify";
import { type BodyPlan, NO_BODY_PLAN, planBody } from "../src/pipeline/body-plan.js";

const SECRET = "body-plan-test-secret";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const OPTIONS = { minChunkBytes: 0 };

/** A request signed by a client with `headers` and `payloadHash`, as the gateway authenticates it. */
function signed(
  headers: Array<[string, string]>,
  payloadHash: string,
  method = "PUT",
): { auth: AuthenticatedRequest; signingKey: Buffer } {
  const all: Array<[string, string]> = [["host", "s3.test"], ...headers];
  const signature = signRequest({
    method,
    rawPath: "/bucket/key",
    rawQuery: "",
    headers: all,
    payloadHash,
    accessKeyId: "BODYPLANKEY",
    secretAccessKey: SECRET,
    region: "us-east-1",
  });
  const auth = authenticateRequest({
    method,
    rawPath: "/bucket/key",
    rawQuery: "",
    headers: [...all, ...signature.headersToAdd.map(([n, v]): [string, string] => [n, v])],
  });
  assert.ok(auth !== null && !(auth instanceof Error), String(auth));
  return { auth, signingKey: deriveSigningKey(SECRET, auth.scope.date, auth.scope.region, "s3") };
}

/** Runs `data` through a plan's inline verifier in `pieces`, returning what it emitted. */
function verify(plan: BodyPlan, data: Buffer, pieces = 3): Buffer {
  const verifier = plan.verifier as BodyVerifier;
  const out: Buffer[] = [];
  const emit = (b: Buffer) => out.push(Buffer.from(b));
  const step = Math.ceil(data.length / pieces);
  for (let i = 0; i < data.length; i += step) verifier.write(data.subarray(i, i + step), emit);
  verifier.end(emit);
  return Buffer.concat(out);
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("base64");

test("a request without a body gets the one shared no-body plan", () => {
  const { auth, signingKey } = signed([], EMPTY_SHA256, "GET");
  const plan = planBody(auth, signingKey, OPTIONS);
  assert.equal(plan, NO_BODY_PLAN);
  assert.deepEqual(
    { ...plan },
    {
      upstreamLength: 0,
      clientSendsBody: false,
      verifier: null,
      pooledVerifier: null,
      sha256Hex: EMPTY_SHA256,
    },
  );
  assert.ok(Object.isFrozen(plan));
});

test("digests declared for an empty body are checked when planning", () => {
  const { auth, signingKey } = signed([["content-md5", md5(Buffer.from("not empty"))]], EMPTY_SHA256, "GET");
  assert.throws(() => planBody(auth, signingKey, OPTIONS), { code: "BadDigest" });
});

test("a signed body is verified against its hash, and its hash re-signs it upstream", () => {
  const body = Buffer.from("hello, plan\n".repeat(100));
  const { auth, signingKey } = signed([["content-length", String(body.length)]], sha256(body));
  const plan = planBody(auth, signingKey, OPTIONS);
  assert.equal(plan.upstreamLength, body.length);
  assert.equal(plan.clientSendsBody, true);
  assert.equal(plan.sha256Hex, sha256(body));
  assert.equal(plan.pooledVerifier, null);
  assert.deepEqual(verify(plan, body), body);
  const tampered = Buffer.from(body);
  tampered[7] = 0x21;
  assert.throws(() => verify(planBody(auth, signingKey, OPTIONS), tampered), {
    code: "XAmzContentSHA256Mismatch",
  });
});

test("an unsigned payload without digests streams as it comes, UNSIGNED-PAYLOAD upstream", () => {
  const { auth, signingKey } = signed([["content-length", "5"]], "UNSIGNED-PAYLOAD");
  const plan = planBody(auth, signingKey, OPTIONS);
  assert.equal(plan.upstreamLength, 5);
  assert.equal(plan.verifier, null);
  assert.equal(plan.sha256Hex, null);
});

test("a Content-MD5 of an unsigned payload is checked against the bytes", () => {
  const body = Buffer.from("md5 me");
  const headers: Array<[string, string]> = [
    ["content-length", String(body.length)],
    ["content-md5", md5(Buffer.from("something else"))],
  ];
  const { auth, signingKey } = signed(headers, "UNSIGNED-PAYLOAD");
  assert.throws(() => verify(planBody(auth, signingKey, OPTIONS), body), { code: "BadDigest" });
});

test("an aws-chunked body is decoded to its declared length, each chunk signature checked", () => {
  const data = Buffer.from("0123456789abcdef".repeat(64));
  const headers: Array<[string, string]> = [
    ["content-encoding", "aws-chunked"],
    ["x-amz-decoded-content-length", String(data.length)],
  ];
  const mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  // The framed length depends on the seed signature only through fixed-size fields: sign once to learn it.
  const probe = signed([...headers, ["content-length", "0"]], mode);
  const encodedLength = encodeAwsChunked(data, {
    chunkBytes: 256,
    mode: "streaming-signed",
    signing: {
      signingKey: probe.signingKey,
      amzDate: probe.auth.amzDate,
      scope: probe.auth.scope,
      seedSignature: probe.auth.signature,
    },
  }).length;
  const { auth, signingKey } = signed([...headers, ["content-length", String(encodedLength)]], mode);
  const encoded = encodeAwsChunked(data, {
    chunkBytes: 256,
    mode: "streaming-signed",
    signing: { signingKey, amzDate: auth.amzDate, scope: auth.scope, seedSignature: auth.signature },
  });
  const plan = planBody(auth, signingKey, OPTIONS);
  assert.equal(plan.upstreamLength, data.length);
  assert.equal(plan.sha256Hex, null);
  assert.deepEqual(verify(plan, encoded, 7), data);
  // A body signed for another request's seed fails its first chunk.
  const foreign = encodeAwsChunked(data, {
    chunkBytes: 256,
    mode: "streaming-signed",
    signing: { signingKey, amzDate: auth.amzDate, scope: auth.scope, seedSignature: "0".repeat(64) },
  });
  assert.throws(() => verify(planBody(auth, signingKey, OPTIONS), foreign), {
    code: "SignatureDoesNotMatch",
  });
});

test("framing it cannot forward is refused with S3's codes before any byte is read", () => {
  const chunked = signed([["transfer-encoding", "chunked"]], "UNSIGNED-PAYLOAD");
  assert.throws(() => planBody(chunked.auth, chunked.signingKey, OPTIONS), { code: "NotImplemented" });
  const huge = signed([["content-length", String(5 * 1024 ** 3 + 1)]], "UNSIGNED-PAYLOAD");
  assert.throws(() => planBody(huge.auth, huge.signingKey, OPTIONS), { code: "EntityTooLarge" });
  const bad = signed([["content-length", "12abc"]], "UNSIGNED-PAYLOAD");
  assert.throws(() => planBody(bad.auth, bad.signingKey, OPTIONS), { code: "InvalidArgument" });
  const noLength = signed(
    [
      ["content-encoding", "aws-chunked"],
      ["content-length", "100"],
    ],
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  );
  assert.throws(() => planBody(noLength.auth, noLength.signingKey, OPTIONS), {
    code: "MissingContentLength",
  });
  const empty = signed(
    [
      ["content-encoding", "aws-chunked"],
      ["x-amz-decoded-content-length", "0"],
    ],
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  );
  assert.throws(() => planBody(empty.auth, empty.signingKey, OPTIONS), { code: "IncompleteBody" });
});

const pool = createVerifyPool({ mode: "pool", threads: 1 });
after(() => pool.close());

test("a body verified on a pool thread cannot be streamed through the inline verifier by mistake", async () => {
  const body = Buffer.alloc(1024 * 1024, 7);
  const { auth, signingKey } = signed([["content-length", String(body.length)]], sha256(body));
  const plan = planBody(auth, signingKey, OPTIONS, pool);
  assert.ok(plan.pooledVerifier !== null, "mode pool sends a signed body to a thread");
  assert.throws(() => plan.verifier?.write(body, () => {}), { code: "InternalError" });
  const pooled = planBody(auth, signingKey, OPTIONS, pool).pooledVerifier!;
  const out: Buffer[] = [];
  pooled.write(body, (b) => out.push(Buffer.from(b)));
  await pooled.end((b) => out.push(Buffer.from(b)));
  assert.deepEqual(Buffer.concat(out), body);
});
