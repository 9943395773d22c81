/**
 * The cases of the attack corpus, one row each (see attack-cases.ts for how each is judged). Paths
 * are sent exactly as written: `..`, `%2e`, raw `#` and `\` included; `{uploadId}` is carol's real upload.
 */
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  type AttackCase,
  BOB_DATA,
  chunkedPut,
  type Env,
  type Expect,
  md5Base64,
  OWN_DATA,
  type Reply,
  type RequestSpec,
  SPOOL_BYTES,
  send,
  underCarol,
  type Who,
} from "./attack-cases.js";
import { abandonedPut, presignedPut, sdkRoundTrip } from "./attack-requests.js";

const REFUSED: Expect = { status: "4xx" };
const INVALID: Expect = { status: 400, code: "InvalidArgument" };
const DENIED: Expect = { status: 403, code: "AccessDenied" };

type Klass = AttackCase["klass"];

function row(
  klass: Klass,
  as: Who,
  spec: RequestSpec,
  expect: Expect,
  more: Partial<Omit<AttackCase, "klass" | "as" | "send" | "expect" | "name">> & { note?: string } = {},
): AttackCase {
  const { note, ...rest } = more;
  const headers = (spec.headers ?? []).filter(([n]) => n !== "content-md5").map(([n, v]) => `${n}: ${v}`);
  const name =
    `class ${klass}: ${as} ${spec.method} ${spec.path}` +
    (spec.vhost === true ? " (virtual host data.s3.test)" : "") +
    (headers.length > 0 ? ` with ${headers.join(", ")}` : "") +
    (note === undefined ? "" : ` (${note})`) +
    ` is answered ${expect.status}${expect.code === undefined ? "" : ` ${expect.code}`}` +
    (klass === 0 ? "" : " and changes nothing");
  return { klass, as, name, expect, send: (env) => send(env, as, spec), ...rest };
}

const _PART1 = "part one of carol's upload\n";
const completeXml =
  "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{partEtag}</ETag></Part></CompleteMultipartUpload>";
function deleteXml(...keys: string[]): string {
  const objects = keys.map((k) => `<Object><Key>${k}</Key></Object>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?><Delete>${objects}<Quiet>false</Quiet></Delete>`;
}
function deleteObjects(...keys: string[]): RequestSpec {
  const body = deleteXml(...keys);
  return { method: "POST", path: "/data?delete", body, headers: [["content-md5", md5Base64(body)]] };
}
const BODY = "attacker's bytes\n";

// ---------------------------------------------------------------------------------------------------------
// Class 1: dot segments in keys, copy sources and DeleteObjects keys; paths escaping the bucket folder.

const DOT_KEYS_TO_SECRET = [
  "carol/../secret/s.txt",
  "carol/%2e%2e/secret/s.txt",
  "carol/%2E%2e/secret/s.txt",
  "carol/..%2Fsecret/s.txt",
  "carol/.%2e/secret/s.txt",
  "carol/./../secret/s.txt",
  "carol/a.txt#/../../secret/s.txt",
  "carol/..\\secret\\s.txt",
  "carol/%2e%2e%2fsecret%2fs.txt",
];

const class1: AttackCase[] = [
  ...DOT_KEYS_TO_SECRET.map((k) => row(1, "carol", { method: "GET", path: `/data/${k}` }, REFUSED)),
  row(1, "carol", { method: "GET", path: "/data/carol/../bob/b.txt" }, REFUSED),
  row(1, "carol", { method: "GET", path: "/data/carol/../../mapped-upstream/m.txt" }, REFUSED),
  row(1, "carol", { method: "GET", path: "/data/carol/../../forbidden/f.txt" }, REFUSED),
  row(1, "carol", { method: "GET", path: "/data/carol/../../../{canary}" }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  row(1, "carol", { method: "HEAD", path: "/data/carol/../secret/s.txt" }, REFUSED),
  row(1, "carol", { method: "HEAD", path: "/data/carol/%2e%2e/secret/s.txt" }, REFUSED),
  row(1, "carol", { method: "HEAD", path: "/data/carol/../../forbidden/f.txt" }, REFUSED),
  row(1, "carol", { method: "HEAD", path: "/data/carol/../../../{canary}" }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  ...[
    "carol/../secret/s.txt",
    "carol/%2E%2E/secret/s.txt",
    "carol/..%2Fbob/b.txt",
    "carol/.%2e/bob/b.txt",
    "carol/a.txt#/../../secret/s.txt",
    "carol/..\\secret\\s.txt",
    "carol/../../mapped-upstream/m.txt",
    "carol/./own.txt",
  ].map((k) => row(1, "carol", { method: "PUT", path: `/data/${k}`, body: BODY }, REFUSED)),
  row(1, "carol", { method: "PUT", path: "/data/carol/../../../{canary}", body: BODY }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  row(1, "carol", { method: "DELETE", path: "/data/carol/../secret/s.txt" }, REFUSED),
  row(1, "carol", { method: "DELETE", path: "/data/carol/%2e%2e/bob/b.txt" }, REFUSED),
  row(1, "carol", { method: "DELETE", path: "/data/carol/../../forbidden/f.txt" }, REFUSED),
  row(1, "carol", { method: "DELETE", path: "/data/carol/../../../{canary}" }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  // Virtual-hosted: the whole path is the key.
  row(1, "carol", { method: "GET", path: "/carol/../secret/s.txt", vhost: true }, REFUSED),
  row(1, "carol", { method: "GET", path: "/carol/%2e%2e/secret/s.txt", vhost: true }, REFUSED),
  row(1, "carol", { method: "GET", path: "/carol/../../mapped-upstream/m.txt", vhost: true }, REFUSED),
  row(1, "carol", { method: "HEAD", path: "/carol/../secret/s.txt", vhost: true }, REFUSED),
  row(1, "carol", { method: "PUT", path: "/carol/../secret/s.txt", vhost: true, body: BODY }, REFUSED),
  row(1, "carol", { method: "PUT", path: "/carol/../../../{canary}", vhost: true, body: BODY }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  row(1, "carol", { method: "DELETE", path: "/carol/../bob/b.txt", vhost: true }, REFUSED),
  // Multipart.
  row(1, "carol", { method: "POST", path: "/data/carol/../secret/s.txt?uploads" }, REFUSED),
  row(1, "carol", { method: "POST", path: "/data/carol/%2e%2e/bob/b.txt?uploads" }, REFUSED),
  row(
    1,
    "carol",
    { method: "PUT", path: "/data/carol/../secret/s.txt?partNumber=1&uploadId={uploadId}", body: BODY },
    REFUSED,
  ),
  row(
    1,
    "carol",
    { method: "POST", path: "/data/carol/../secret/s.txt?uploadId={uploadId}", body: completeXml },
    REFUSED,
  ),
  // Copy sources.
  ...[
    "data/carol/../secret/s.txt",
    "/data/carol/../secret/s.txt",
    "data/carol/%2e%2e/secret/s.txt",
    "data/carol/..%2Fsecret%2Fs.txt",
    "data%2Fcarol%2F..%2Fsecret%2Fs.txt",
    "data/carol/a.txt#/../../secret/s.txt",
    "data/carol/../../forbidden/f.txt",
    "data/carol/../bob/b.txt",
  ].map((source) =>
    row(
      1,
      "carol",
      { method: "PUT", path: "/data/carol/copy-target", headers: [["x-amz-copy-source", source]] },
      REFUSED,
    ),
  ),
  ...["data/carol/../secret/s.txt", "data/carol/%2E%2E/secret/s.txt"].map((source) =>
    row(
      1,
      "carol",
      {
        method: "PUT",
        path: "/data/{uploadKey}?partNumber=2&uploadId={uploadId}",
        headers: [["x-amz-copy-source", source]],
      },
      REFUSED,
    ),
  ),
  // DeleteObjects keys.
  row(1, "carol", deleteObjects("carol/../secret/s.txt"), REFUSED),
  row(1, "carol", deleteObjects("carol/&#46;&#46;/secret/s.txt"), REFUSED, { note: "entity-encoded dots" }),
  row(1, "carol", deleteObjects("carol/..&#x2F;bob/b.txt"), REFUSED, { note: "entity-encoded slash" }),
  row(1, "carol", deleteObjects("carol/own.txt", "carol/../bob/b.txt"), REFUSED),
  row(1, "carol", deleteObjects("carol/../../forbidden/f.txt"), REFUSED),
  // Paths escaping the bucket, and dave reaching secret/ or other buckets through keys he may use.
  row(1, "carol", { method: "GET", path: "/data/../../{canary}" }, REFUSED, { upstreams: ["s3rver"] }),
  row(1, "carol", { method: "PUT", path: "/data/../../{canary}", body: BODY }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  row(1, "dave", { method: "GET", path: "/data/../../{canary}" }, REFUSED, { upstreams: ["s3rver"] }),
  row(1, "dave", { method: "PUT", path: "/data/../../{canary}", body: BODY }, REFUSED, {
    upstreams: ["s3rver"],
  }),
  row(1, "dave", { method: "DELETE", path: "/data/../../{canary}" }, REFUSED, { upstreams: ["s3rver"] }),
  row(1, "dave", { method: "GET", path: "/data/public/../secret/s.txt" }, REFUSED),
  row(1, "dave", { method: "GET", path: "/data/./secret/s.txt" }, REFUSED),
  row(1, "dave", { method: "HEAD", path: "/data/./secret/s.txt" }, REFUSED),
  row(1, "dave", { method: "GET", path: "/data/%2e/secret/s.txt" }, REFUSED),
  row(1, "dave", { method: "PUT", path: "/data/public/../secret/s.txt", body: BODY }, REFUSED),
  row(1, "dave", { method: "DELETE", path: "/data/x/../secret/s.txt" }, REFUSED),
  row(1, "dave", { method: "GET", path: "/data/%2e%2e/forbidden/f.txt" }, REFUSED),
  row(1, "dave", { method: "PUT", path: "/data/../mapped-upstream/m.txt", body: BODY }, REFUSED),
  row(1, "dave", { method: "DELETE", path: "/data/../forbidden/f.txt" }, REFUSED),
  row(
    1,
    "dave",
    {
      method: "PUT",
      path: "/data/public/copy-target",
      headers: [["x-amz-copy-source", "data/./secret/s.txt"]],
    },
    REFUSED,
  ),
  row(1, "dave", deleteObjects("./secret/s.txt"), REFUSED),
  row(1, "dave", deleteObjects("x/../secret/s.txt"), REFUSED),
  // An empty segment is a key character at S3; the store must still not hand dave the secret.
  row(
    1,
    "dave",
    { method: "GET", path: "/data//secret/s.txt" },
    { status: "any" },
    { note: "empty segment" },
  ),
  // A file store joins empty segments away: "/secret/s.txt" is its "secret/s.txt" (found by review).
  row(
    1,
    "dave",
    {
      method: "PUT",
      path: "/data/public/copy-target",
      headers: [["x-amz-copy-source", "data//secret/s.txt"]],
    },
    REFUSED,
    { note: "empty segment in the copy source" },
  ),
  row(1, "dave", deleteObjects("/secret/s.txt"), REFUSED, { note: "leading empty segment" }),
  row(1, "dave", deleteObjects("public//../secret/s.txt"), REFUSED),
  // s3rver's XML parser trims raw text before decoding it: osp writes blanks as references.
  row(1, "dave", deleteObjects(" secret/s.txt"), { status: "any" }, { note: "leading blank" }),
  row(1, "dave", deleteObjects("\tsecret/s.txt\n"), { status: "any" }, { note: "blanks around the key" }),
];

// ---------------------------------------------------------------------------------------------------------
// Class 2: query values a store uses as paths, or that the operation does not take.

const UPLOAD = "/data/{uploadKey}";
const class2: AttackCase[] = [
  ...[
    "partNumber=1&uploadId=..%2F..%2Fdata%2Fsecret",
    "partNumber=b.txt._S3rver_object&uploadId=..%2Fbob",
    "partNumber=1&uploadId=..",
    "partNumber=1&uploadId=a%2Fb",
    "partNumber=1&uploadId=a%5Cb",
    "partNumber=1&uploadId=a%01%1Fb",
    `partNumber=1&uploadId=${"a".repeat(2000)}`,
    "partNumber=b.txt._S3rver_object&uploadId={uploadId}",
    "partNumber=..%2F..%2Fsecret%2Fs.txt._S3rver_object&uploadId={uploadId}",
    "partNumber=0&uploadId={uploadId}",
    "partNumber=10001&uploadId={uploadId}",
    "partNumber=1e3&uploadId={uploadId}",
    "partNumber=-1&uploadId={uploadId}",
    "partNumber=%201&uploadId={uploadId}",
  ].map((q) => row(2, "carol", { method: "PUT", path: `${UPLOAD}?${q}`, body: BODY }, INVALID)),
  row(
    2,
    "carol",
    { method: "POST", path: `${UPLOAD}?uploadId=..%2F..%2Fdata%2Fsecret`, body: completeXml },
    INVALID,
  ),
  row(2, "carol", { method: "GET", path: `${UPLOAD}?uploadId=..%2F..%2Fdata%2Fsecret` }, INVALID),
  row(2, "carol", { method: "DELETE", path: `${UPLOAD}?uploadId=..%2F..%2Fdata` }, INVALID),
  row(2, "carol", { method: "GET", path: "/data/carol/own.txt?versionId=../x" }, INVALID),
  row(
    2,
    "carol",
    { method: "DELETE", path: "/data/carol/own.txt?versionId=..%2F..%2Fsecret%2Fs.txt" },
    INVALID,
  ),
  row(2, "carol", { method: "GET", path: "/data?list-type=2&prefix=carol%2F&max-keys=abc" }, INVALID),
  row(2, "carol", { method: "GET", path: "/data?prefix=carol%2F&encoding-type=xml" }, INVALID),
  row(2, "carol", { method: "GET", path: "/data/carol/own.txt?foo=bar" }, INVALID),
  row(2, "carol", { method: "GET", path: "/data/carol/own.txt?prefix=secret%2F" }, INVALID),
  row(2, "carol", { method: "HEAD", path: "/data/carol/own.txt?foo=bar" }, INVALID),
  row(2, "carol", { method: "PUT", path: "/data/carol/own.txt?foo=bar", body: BODY }, INVALID),
  row(2, "carol", { method: "DELETE", path: "/data/carol/own.txt?foo=bar" }, INVALID),
  row(2, "carol", { method: "GET", path: "/data?list-type=2&prefix=carol%2F&foo=bar" }, INVALID),
  row(2, "carol", { method: "POST", path: "/data/carol/new-upload?uploads&foo=bar" }, INVALID),
  row(
    2,
    "carol",
    { method: "PUT", path: `${UPLOAD}?partNumber=2&uploadId={uploadId}&foo=bar`, body: BODY },
    INVALID,
  ),
  row(
    2,
    "carol",
    {
      method: "PUT",
      path: "/data/carol/copy-target?foo=bar",
      headers: [["x-amz-copy-source", "data/carol/own.txt"]],
    },
    INVALID,
  ),
  row(
    2,
    "carol",
    { method: "GET", path: "/data/carol/own.txt?response-content-type=text%2Fplain%0D%0AX-Injected%3A%201" },
    INVALID,
  ),
  row(2, "carol", { method: "GET", path: "/data/carol/own.txt?response-content-disposition=a%0Ab" }, INVALID),
];

// ---------------------------------------------------------------------------------------------------------
// Class 3: bucket probes as oracles, and listings whose range overlaps what is denied.

function sameAnswer(a: Reply, b: Reply): string[] {
  const strip = (r: Reply) => {
    const h = { ...r.headers };
    for (const n of ["date", "x-amz-request-id", "x-amz-id-2"]) delete h[n];
    return JSON.stringify({
      status: r.status,
      headers: h,
      body: r.body.replace(/<RequestId>[^<]*<\/RequestId>/, ""),
    });
  };
  return strip(a) === strip(b) ? [] : [`answers differ: ${strip(a)} vs ${strip(b)}`];
}

function probePair(as: Who, method: string, a: string, b: string, expect: Expect): AttackCase {
  return {
    ...row(3, as, { method, path: a }, expect, { note: `compared with ${b}` }),
    send: async (env) => {
      const first = await send(env, as, { method, path: a });
      return { ...first, second: await send(env, as, { method, path: b }) };
    },
    check: (_env, reply) =>
      reply.second === undefined ? ["no second answer"] : sameAnswer(reply, reply.second),
  };
}

/**
 * HeadBucket on a store that answers it as a listing (s3rver) would tell, by its length, whether a denied
 * prefix holds more objects: the answer must be the same before and after an object appears there.
 */
function headLengthOracle(as: Who, grownKey: string): AttackCase {
  return {
    klass: 3,
    as,
    name: `class 3: ${as} HEAD /data answers the same before and after ${grownKey} appears, and changes nothing`,
    expect: { status: 200 },
    send: async (env) => {
      const first = await send(env, as, { method: "HEAD", path: "/data" });
      const direct = env.stack.direct();
      await direct.send(new PutObjectCommand({ Bucket: "data", Key: grownKey, Body: "x".repeat(777) }));
      const second = await send(env, as, { method: "HEAD", path: "/data" });
      await direct.send(new DeleteObjectCommand({ Bucket: "data", Key: grownKey }));
      return { ...first, second };
    },
    check: (_env, reply) =>
      reply.second === undefined ? ["no second answer"] : sameAnswer(reply, reply.second),
  };
}

const DAVE_DENIED_LISTINGS = [
  "/data?list-type=2",
  "/data?list-type=2&prefix=",
  "/data?list-type=2&prefix=secre",
  "/data?list-type=2&prefix=s",
  "/data?list-type=2&prefix=secret",
  "/data?list-type=2&prefix=secret%2F",
  "/data?list-type=2&delimiter=%2F",
  "/data?list-type=2&prefix=secret%2F&delimiter=%2F",
  "/data?list-type=2&fetch-owner=true",
  "/data?list-type=2&start-after=secret%2F",
  "/data?list-type=2&start-after=public%2F",
  "/data?list-type=2&continuation-token=c2VjcmV0Lw%3D%3D",
  "/data",
  "/data?prefix=secret%2F",
  "/data?marker=secret%2F",
  "/data?delimiter=%2F",
  "/data?versions",
  "/data?versions&prefix=secret%2F",
  "/data?versions&key-marker=secret%2F",
  "/data?uploads",
  "/data?uploads&prefix=secret%2F",
];

const CAROL_DENIED_LISTINGS = [
  "/data?list-type=2",
  "/data?list-type=2&prefix=car",
  "/data?list-type=2&prefix=carol",
  "/data?prefix=&delimiter=%2F",
  "/data?versions",
  "/data?uploads",
  "/data?list-type=2&prefix=bob%2F",
];

const class3: AttackCase[] = [
  probePair("dave", "HEAD", "/data?prefix=secret%2Fs", "/data?prefix=secret%2Fx", { status: 400 }),
  probePair("carol", "HEAD", "/data?prefix=bob%2Fb", "/data?prefix=bob%2Fx", { status: 400 }),
  probePair("dave", "GET", "/data?location&prefix=secret%2Fs", "/data?location&prefix=secret%2Fx", INVALID),
  row(3, "dave", { method: "GET", path: "/data?location&prefix=secret" }, INVALID),
  row(3, "dave", { method: "HEAD", path: "/data", body: "secret/s.txt" }, REFUSED, { note: "with a body" }),
  headLengthOracle("dave", "secret/grown.txt"),
  headLengthOracle("carol", "bob/grown.txt"),
  row(
    3,
    "dave",
    { method: "GET", path: "/data?location" },
    { status: "any" },
    { note: "answers nothing protected" },
  ),
  row(3, "dave", { method: "GET", path: "/data?list-type=2&prefix=public%2F..%2Fsecret%2F" }, INVALID),
  row(3, "dave", { method: "GET", path: "/data?list-type=2&prefix=.%2Fsecret%2F" }, { status: "any" }),
  row(3, "carol", { method: "GET", path: "/data?list-type=2&prefix=carol%2F..%2Fbob%2F" }, REFUSED),
  ...DAVE_DENIED_LISTINGS.map((p) => row(3, "dave", { method: "GET", path: p }, DENIED)),
  ...CAROL_DENIED_LISTINGS.map((p) => row(3, "carol", { method: "GET", path: p }, DENIED)),
];

// ---------------------------------------------------------------------------------------------------------
// Class 4: bytes osp has not verified must never reach the store.

const BODY_A = Buffer.alloc(1024, "A");
const BODY_B = Buffer.alloc(1024, "B");
const NEAR_SPOOL_A = Buffer.alloc(SPOOL_BYTES - 1, "A");
const NEAR_SPOOL_B = Buffer.alloc(SPOOL_BYTES - 1, "B");
const MISMATCH: Expect = { status: 400, code: "XAmzContentSHA256Mismatch" };
const BAD_DIGEST: Expect = { status: 400, code: "BadDigest" };

function replay(key: string, a: Buffer, b: Buffer, note: string, path = `/data/${key}`): AttackCase {
  return row(4, "carol", { method: "PUT", path, body: a, sendBody: b }, MISMATCH, {
    note: `signed for body A, sent body B, ${note}`,
  });
}

function chunkTamper(key: string): AttackCase {
  return {
    klass: 4,
    as: "carol",
    name: `class 4: carol PUT /data/${key} aws-chunked (signed chunks) with chunk 2 replaced is answered 403 SignatureDoesNotMatch and changes nothing`,
    expect: { status: 403, code: "SignatureDoesNotMatch" },
    send: (env) => chunkedPut(env, "carol", key, Buffer.alloc(3 * 65536 + 100, "C"), true),
  };
}

const WRONG_MD5 = md5Base64("something else");
const class4: AttackCase[] = [
  replay("carol/own.txt", BODY_A, BODY_B, "1 KiB over an existing object"),
  replay("carol/new-replay.txt", BODY_A, BODY_B, "1 KiB, new key"),
  replay("carol/own.txt", NEAR_SPOOL_A, NEAR_SPOOL_B, "spoolBytes - 1 over an existing object"),
  replay("carol/new-big-replay.bin", NEAR_SPOOL_A, NEAR_SPOOL_B, "spoolBytes - 1, new key"),
  replay("", BODY_A, BODY_B, "1 KiB part", `${UPLOAD}?partNumber=1&uploadId={uploadId}`),
  chunkTamper("carol/own.txt"),
  chunkTamper("carol/new-chunked.bin"),
  ...["carol/own.txt", "carol/new-gone.txt"].map((key) => ({
    klass: 4 as const,
    as: "carol" as const,
    name: `class 4: carol PUT /data/${key} whose client goes away after half its body changes nothing`,
    expect: { status: "any" as const },
    send: (env: Env) => abandonedPut(env, key),
  })),
  ...["carol/own.txt", "carol/new-md5.txt"].map((key) =>
    row(
      4,
      "carol",
      { method: "PUT", path: `/data/${key}`, body: BODY_A, headers: [["content-md5", WRONG_MD5]] },
      BAD_DIGEST,
      { note: "wrong Content-MD5" },
    ),
  ),
  ...["carol/own.txt", "carol/new-crc.txt"].map((key) =>
    row(
      4,
      "carol",
      {
        method: "PUT",
        path: `/data/${key}`,
        body: BODY_A,
        payloadHash: "UNSIGNED-PAYLOAD",
        headers: [["x-amz-checksum-crc32", "AAAAAA=="]],
      },
      BAD_DIGEST,
    ),
  ),
];

// ---------------------------------------------------------------------------------------------------------
// Class 5: headers that change who may access an object or how long it is kept need `admin`.

const PRIVILEGED: ReadonlyArray<readonly [string, string]> = [
  ["x-amz-acl", "public-read-write"],
  ["x-amz-grant-read", 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
  ["x-amz-grant-full-control", 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
  ["x-amz-grant-write-acp", 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
  ["x-amz-object-lock-mode", "GOVERNANCE"],
  ["x-amz-object-lock-retain-until-date", "2099-01-01T00:00:00Z"],
  ["x-amz-object-lock-legal-hold", "ON"],
  ["x-amz-website-redirect-location", "http://evil.example/"],
];

const privileged = (spec: RequestSpec, name: string) =>
  row(5, "carol", spec, DENIED, { neverUpstream: [name] });

const class5: AttackCase[] = [
  ...PRIVILEGED.map(([n, v]) =>
    privileged({ method: "PUT", path: "/data/carol/priv.txt", body: BODY, headers: [[n, v]] }, n),
  ),
  ...PRIVILEGED.map(([n, v]) =>
    privileged(
      {
        method: "PUT",
        path: "/data/carol/priv-copy.txt",
        headers: [
          ["x-amz-copy-source", "data/carol/own.txt"],
          [n, v],
        ],
      },
      n,
    ),
  ),
  ...PRIVILEGED.map(([n, v]) =>
    privileged({ method: "POST", path: "/data/carol/priv-mp.bin?uploads", headers: [[n, v]] }, n),
  ),
  privileged(
    {
      method: "PUT",
      path: "/data/carol/priv.txt",
      body: BODY,
      headers: [["X-Amz-Acl", "public-read-write"]],
    },
    "x-amz-acl",
  ),
  ...PRIVILEGED.slice(0, 3).map(([n, v]) => ({
    klass: 5 as const,
    as: "carol" as const,
    name: `class 5: carol presigned PUT /data/carol/priv.txt with ${n} hoisted into the query is answered 403 AccessDenied and changes nothing`,
    expect: DENIED,
    neverUpstream: [n],
    send: (env: Env) => presignedPut(env, "carol/priv.txt", `${n}=${encodeURIComponent(v)}`),
  })),
  privileged(
    {
      method: "DELETE",
      path: "/data/carol/own.txt",
      headers: [["x-amz-bypass-governance-retention", "true"]],
    },
    "x-amz-bypass-governance-retention",
  ),
  (() => {
    const spec = deleteObjects("carol/own.txt");
    return privileged(
      { ...spec, headers: [...(spec.headers ?? []), ["x-amz-bypass-governance-retention", "true"]] },
      "x-amz-bypass-governance-retention",
    );
  })(),
  row(
    5,
    "carol",
    { method: "PUT", path: "/data/carol/own.txt?acl", headers: [["x-amz-acl", "public-read"]] },
    DENIED,
  ),
  row(
    5,
    "carol",
    {
      method: "PUT",
      path: "/data/carol/own.txt?retention",
      body: "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate></Retention>",
    },
    DENIED,
  ),
  row(
    5,
    "carol",
    {
      method: "PUT",
      path: "/data/carol/own.txt?legal-hold",
      body: "<LegalHold><Status>ON</Status></LegalHold>",
    },
    DENIED,
  ),
];

// ---------------------------------------------------------------------------------------------------------
// Controls: what carol, dave and alice may do still works, raw and through the SDK.

const OK: Expect = { status: 200 };
const contains =
  (...needles: string[]) =>
  (_env: Env, r: Reply) =>
    needles.filter((n) => !r.body.includes(n)).map((n) => `the answer lacks ${n}`);

const controls: AttackCase[] = [
  row(0, "carol", { method: "GET", path: "/data/carol/own.txt" }, OK, {
    check: contains(OWN_DATA.toString()),
  }),
  row(0, "carol", { method: "GET", path: "/data/carol/own.txt?x-id=GetObject" }, OK),
  row(0, "carol", { method: "PUT", path: "/data/carol/new.txt", body: BODY }, OK, { mayChange: underCarol }),
  row(
    0,
    "carol",
    { method: "DELETE", path: "/data/carol/del.txt" },
    { status: 204 },
    { mayChange: underCarol },
  ),
  row(0, "carol", { method: "GET", path: "/data?list-type=2&prefix=carol%2F" }, OK, {
    check: contains("carol/own.txt"),
  }),
  row(0, "carol", { method: "GET", path: "/data?prefix=carol%2F&delimiter=%2F" }, OK, {
    check: contains("carol/own.txt"),
  }),
  row(0, "carol", { method: "POST", path: "/data/carol/raw-mp.bin?uploads" }, OK, { mayChange: underCarol }),
  row(0, "carol", { method: "PUT", path: `${UPLOAD}?partNumber=2&uploadId={uploadId}`, body: BODY }, OK, {
    mayChange: underCarol,
  }),
  row(0, "carol", { method: "POST", path: `${UPLOAD}?uploadId={uploadId}`, body: completeXml }, OK, {
    mayChange: underCarol,
  }),
  row(
    0,
    "carol",
    { method: "PUT", path: "/data/carol/copy.txt", headers: [["x-amz-copy-source", "data/carol/own.txt"]] },
    OK,
    { mayChange: underCarol },
  ),
  row(
    0,
    "carol",
    {
      method: "PUT",
      path: `${UPLOAD}?partNumber=3&uploadId={uploadId}`,
      headers: [["x-amz-copy-source", "data/carol/own.txt"]],
    },
    OK,
    { mayChange: underCarol, upstreams: ["radosgw"], note: "UploadPartCopy; s3rver has none" },
  ),
  row(0, "carol", deleteObjects("carol/del.txt"), OK, {
    mayChange: underCarol,
    check: contains("<Deleted>"),
  }),
  row(0, "dave", { method: "GET", path: "/data?list-type=2&prefix=public%2F" }, OK, {
    check: contains("public/p.txt"),
  }),
  row(0, "dave", { method: "GET", path: "/data/bob/b.txt" }, OK, {
    check: contains(BOB_DATA.subarray(0, 24).toString()),
  }),
  row(
    0,
    "alice",
    { method: "PUT", path: "/data/alice-acl.txt", body: BODY, headers: [["x-amz-acl", "private"]] },
    OK,
    {
      note: "alice holds admin",
      mayChange: (entry) => entry.startsWith("data/alice-acl.txt"),
      check: (env) => {
        const put = env.recorded.findLast((r) => r.method === "PUT" && r.url.includes("alice-acl.txt"));
        return put?.headers["x-amz-acl"] === "private" ? [] : ["x-amz-acl: private did not reach the store"];
      },
    },
  ),
  {
    klass: 0,
    as: "carol",
    name: "class 0: carol's SDK client (default checksums) puts, gets, lists, uploads in parts and deletes under carol/",
    expect: OK,
    mayChange: underCarol,
    send: sdkRoundTrip,
  },
];

/**
 * Classes 1 and 2 again, for an endpoint with `keys: literal` (a store that keeps `a/../b` as that key): osp
 * may pass such keys and ids on, so only the store judges: nothing the principal may not change changed,
 * and nothing protected was revealed.
 */
export const LITERAL_KEY_CASES: readonly AttackCase[] = [...class1, ...class2].map((c) => ({
  ...c,
  name: `${c.name.replace(/ is answered .*$/, "")} changes nothing outside the principal's rights and reveals nothing`,
  expect: { status: "any" },
  mayChange:
    c.as === "carol" ? underCarol : (entry) => entry.startsWith("data/") && !entry.startsWith("data/secret/"),
}));

export const ATTACK_CASES: readonly AttackCase[] = [
  ...class1,
  ...class2,
  ...class3,
  ...class4,
  ...class5,
  ...controls,
];
