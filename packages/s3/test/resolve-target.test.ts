import assert from "node:assert/strict";
import { test } from "node:test";
import { S3Error } from "@osp/errors";
import { type ResolveTargetOptions, resolveTarget, type S3Target, splitRequestTarget } from "../src/index.js";

const S3_RULES: ResolveTargetOptions = {
  virtualHostDomains: ["s3.example.com", "localhost:6190"],
  plusIsSpace: true,
};
const MINIO_RULES: ResolveTargetOptions = { ...S3_RULES, plusIsSpace: false };

type Row = [
  name: string,
  rawPath: string,
  host: string | null,
  expected: S3Target | S3Error["code"],
  options?: ResolveTargetOptions,
];

const path = (bucket: string | null, key: string | null, rawKey: string | null = key): S3Target => ({
  style: "path",
  bucket,
  key,
  rawKey,
});
const virtual = (bucket: string, key: string | null, rawKey: string | null = key): S3Target => ({
  style: "virtual",
  bucket,
  key,
  rawKey,
});

const ROWS: Row[] = [
  // Path-style
  ["finds the service for /", "/", "s3.example.com", path(null, null)],
  ["finds the service for / without a Host", "/", null, path(null, null)],
  ["finds a bucket for /bucket", "/data", "s3.example.com", path("data", null)],
  ["finds the bucket itself for /bucket/", "/data/", "s3.example.com", path("data", null)],
  ["finds a key after the bucket", "/data/a/b.txt", "s3.example.com", path("data", "a/b.txt")],
  ["finds the key / for /bucket//", "/data//", null, path("data", "/")],
  ["keeps // inside a key", "/data/a//b", null, path("data", "a//b")],
  ["keeps a leading / of a key", "/data//etc/passwd", null, path("data", "/etc/passwd")],
  ["keeps . and .. segments of a key", "/data/a/./../b/..", null, path("data", "a/./../b/..")],
  ["keeps a key that is only ..", "/data/..", null, path("data", "..")],
  ["keeps %2e%2e as a literal .. key", "/data/%2e%2e", null, path("data", "..", "%2e%2e")],
  ["keeps a trailing / of a key", "/data/dir/", null, path("data", "dir/")],
  ["keeps a backslash as part of a key", "/data/a\\b", null, path("data", "a\\b")],
  ["decodes %20 to a space", "/data/a%20b", null, path("data", "a b", "a%20b")],
  ["decodes %2B to a plus in either mode", "/data/a%2Bb", null, path("data", "a+b", "a%2Bb")],
  [
    "decodes %2B to a plus with literal-plus rules",
    "/data/a%2Bb",
    null,
    path("data", "a+b", "a%2Bb"),
    MINIO_RULES,
  ],
  [
    "decodes a raw + to a space under S3 rules",
    "/data/libstdc++-docs",
    null,
    path("data", "libstdc  -docs", "libstdc++-docs"),
  ],
  ["keeps a raw + literal under MinIO rules", "/data/a+b", null, path("data", "a+b"), MINIO_RULES],
  ["decodes %25 once only", "/data/a%252F", null, path("data", "a%2F", "a%252F")],
  ["decodes %2F inside a key to a slash", "/data/a%2Fb", null, path("data", "a/b", "a%2Fb")],
  ["accepts lowercase hex escapes", "/data/%e2%82%ac", null, path("data", "€", "%e2%82%ac")],
  [
    "decodes a UTF-8 key",
    "/data/%E6%97%A5%E6%9C%AC%F0%9F%98%80",
    null,
    path("data", "日本😀", "%E6%97%A5%E6%9C%AC%F0%9F%98%80"),
  ],
  ["takes raw non-ASCII characters as their UTF-8", "/data/日本😀", null, path("data", "日本😀")],
  [
    "keeps a leading byte-order mark of a key",
    "/data/%EF%BB%BFbom",
    null,
    path("data", "\uFEFFbom", "%EF%BB%BFbom"),
  ],
  ["keeps a raw tilde", "/data/~user", null, path("data", "~user")],
  ["decodes %7E to a tilde", "/data/%7Euser", null, path("data", "~user", "%7Euser")],
  ["decodes %00 to a NUL character of a key", "/data/a%00b", null, path("data", "a\u0000b", "a%00b")],
  ["does not split on the key's text inside the bucket name", "/mybucket/e", null, path("mybucket", "e")],
  [
    "does not split on a key equal to the bucket name",
    "/proxy-bucket01/bucket01",
    null,
    path("proxy-bucket01", "bucket01"),
  ],
  ["decodes an escaped bucket segment", "/d%61ta/k", null, path("data", "k")],
  [
    "treats a Host that is not a configured domain as path-style",
    "/data/k",
    "cdn.other.net",
    path("data", "k"),
  ],
  [
    "treats a Host equal to a domain, any case and port, as path-style",
    "/data/k",
    "S3.Example.COM:443",
    path("data", "k"),
  ],
  [
    "treats a Host equal to a domain configured with a port as path-style",
    "/data/k",
    "localhost:6190",
    path("data", "k"),
  ],
  ["treats an IPv6 Host as path-style", "/data/k", "[::1]:6190", path("data", "k")],

  // Virtual-hosted
  ["finds a virtual-hosted bucket", "/a/b.txt", "data.s3.example.com", virtual("data", "a/b.txt")],
  ["finds a virtual-hosted bucket itself for /", "/", "data.s3.example.com", virtual("data", null)],
  ["keeps the key // of a virtual-hosted request", "//", "data.s3.example.com", virtual("data", "/")],
  ["ignores the port of a virtual-hosted Host", "/k", "data.s3.example.com:6190", virtual("data", "k")],
  ["lowercases a virtual-hosted Host", "/k", "Data.S3.Example.Com", virtual("data", "k")],
  ["ignores a trailing dot of a virtual-hosted Host", "/k", "data.s3.example.com.", virtual("data", "k")],
  ["ignores the port of a configured domain", "/k", "data.localhost:6190", virtual("data", "k")],
  ["finds a dotted virtual-hosted bucket", "/k", "my.data.s3.example.com", virtual("my.data", "k")],
  [
    "keeps the first path segment in a virtual-hosted key",
    "/data/k",
    "other.s3.example.com",
    virtual("other", "data/k"),
  ],
  ["decodes a virtual-hosted key", "/a%20b+c", "data.s3.example.com", virtual("data", "a b c", "a%20b+c")],
  [
    "prefers the longest matching domain",
    "/k",
    "data.s3.example.com",
    virtual("data", "k"),
    { ...S3_RULES, virtualHostDomains: ["example.com", "s3.example.com"] },
  ],
  [
    "treats a Host equal to one domain as path-style even if it ends with another",
    "/data/k",
    "s3.example.com",
    path("data", "k"),
    { ...S3_RULES, virtualHostDomains: ["example.com", "s3.example.com"] },
  ],
  [
    "ignores the Host when no domain is configured",
    "/data/k",
    "data.s3.example.com",
    path("data", "k"),
    { virtualHostDomains: [], plusIsSpace: true },
  ],

  // Key length
  ["accepts a key of exactly 1024 bytes", `/data/${"k".repeat(1024)}`, null, path("data", "k".repeat(1024))],
  ["refuses a key of 1025 bytes", `/data/${"k".repeat(1025)}`, null, "KeyTooLongError"],
  [
    "counts escaped bytes, not characters, against the limit",
    `/data/${"%E2%82%AC".repeat(342)}`,
    null,
    "KeyTooLongError",
  ],
  [
    "accepts 341 three-byte characters (1023 bytes)",
    `/data/${"%E2%82%AC".repeat(341)}`,
    null,
    path("data", "€".repeat(341), "%E2%82%AC".repeat(341)),
  ],
  ["applies a configured key limit", "/data/abcde", null, "KeyTooLongError", { ...S3_RULES, maxKeyBytes: 4 }],
  [
    "refuses an overlong virtual-hosted key",
    `/${"k".repeat(1025)}`,
    "data.s3.example.com",
    "KeyTooLongError",
  ],

  // Bad encodings
  ["refuses a bad escape in a key", "/data/a%G1", null, "InvalidURI"],
  ["refuses a lone % in a key", "/data/a%", null, "InvalidURI"],
  ["refuses a truncated escape in a key", "/data/a%4", null, "InvalidURI"],
  ["refuses an escaped byte that is not UTF-8", "/data/%FF", null, "InvalidURI"],
  ["refuses a truncated UTF-8 sequence", "/data/%E2%82", null, "InvalidURI"],
  ["refuses an overlong UTF-8 encoding of /", "/data/%C0%AF", null, "InvalidURI"],
  ["refuses a UTF-8 encoded surrogate", "/data/%ED%A0%80", null, "InvalidURI"],
  ["refuses a lone surrogate in the raw path", "/data/a\uD800b", null, "InvalidURI"],
  ["refuses a bad escape in the bucket segment", "/d%ZZata/k", null, "InvalidURI"],
  ["refuses a path that still carries its query", "/data/k?acl", null, "InvalidURI"],

  // Hostile or invalid buckets
  ["refuses the bucket ..", "/../k", null, "InvalidBucketName"],
  ["refuses the bucket %2e%2e", "/%2e%2e/k", null, "InvalidBucketName"],
  ["refuses the bucket .", "/./k", null, "InvalidBucketName"],
  ["refuses an empty bucket segment", "//k", null, "InvalidBucketName"],
  ["refuses an uppercase bucket", "/Data/k", null, "InvalidBucketName"],
  ["refuses a bucket with an escaped slash", "/da%2Fta/k", null, "InvalidBucketName"],
  ["refuses a bucket that decodes to a space", "/da+ta/k", null, "InvalidBucketName"],
  ["refuses an IP-formatted bucket", "/10.0.0.1/k", null, "InvalidBucketName"],
  ["refuses an invalid virtual-hosted bucket", "/k", "Bad_Bucket.s3.example.com", "InvalidBucketName"],
  ["refuses an empty virtual-hosted bucket", "/k", ".s3.example.com", "InvalidBucketName"],

  // Request-target forms
  ["refuses an absolute-form target", "http://data.s3.example.com/k", "s3.example.com", "InvalidURI"],
  ["refuses the asterisk-form target", "*", null, "InvalidURI"],
  ["refuses an authority-form target", "s3.example.com:443", null, "InvalidURI"],
  ["refuses an empty target", "", null, "InvalidURI"],
];

for (const [name, rawPath, host, expected, options] of ROWS) {
  test(`${name}`, () => {
    const got = resolveTarget(rawPath, host, options ?? S3_RULES);
    if (typeof expected === "string") {
      assert.ok(got instanceof S3Error, `expected ${expected}, got ${JSON.stringify(got)}`);
      assert.equal(got.code, expected);
    } else {
      assert.deepEqual(got, expected);
    }
  });
}

test("names the refused bucket in a BucketName field", () => {
  const got = resolveTarget("/Data/k", null, S3_RULES);
  assert.ok(got instanceof S3Error);
  assert.deepEqual(got.fields, [["BucketName", "Data"]]);
  assert.equal(got.status, 400);
});

test("answers InvalidURI with S3's message and status 400", () => {
  const got = resolveTarget("/data/%", null, S3_RULES);
  assert.ok(got instanceof S3Error);
  assert.equal(got.status, 400);
  assert.equal(got.message, "Couldn't parse the specified URI.");
});

test("splits a request target at its first question mark", () => {
  assert.deepEqual(splitRequestTarget("/b/k?acl&x=?"), { rawPath: "/b/k", rawQuery: "acl&x=?" });
  assert.deepEqual(splitRequestTarget("/b/k"), { rawPath: "/b/k", rawQuery: "" });
  assert.deepEqual(splitRequestTarget("/b/k?"), { rawPath: "/b/k", rawQuery: "" });
});
