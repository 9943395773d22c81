import assert from "node:assert/strict";
import { test } from "node:test";
import { S3Error } from "@osp/errors";
import { type CopySource, formatCopySource, parseCopySource } from "../src/index.js";

const ROWS: ReadonlyArray<
  [name: string, value: string, expected: CopySource | S3Error["code"], plusIsSpace?: boolean]
> = [
  ["parses bucket/key", "src/a/b.txt", { bucket: "src", key: "a/b.txt", versionId: null }],
  ["parses /bucket/key", "/src/a/b.txt", { bucket: "src", key: "a/b.txt", versionId: null }],
  ["parses a version id", "src/k?versionId=3%2Fx", { bucket: "src", key: "k", versionId: "3/x" }],
  ["parses the null version id", "/src/k?versionId=null", { bucket: "src", key: "k", versionId: "null" }],
  ["decodes the key once", "src/a%20b%252F%E2%82%AC", { bucket: "src", key: "a b%2F€", versionId: null }],
  ["keeps // . and .. in the key", "src//./../k", { bucket: "src", key: "/./../k", versionId: null }],
  ["decodes %2F in the key to a slash", "src/a%2Fb", { bucket: "src", key: "a/b", versionId: null }],
  [
    "decodes a %3F in the key to a question mark",
    "src/a%3Fb?versionId=v",
    { bucket: "src", key: "a?b", versionId: "v" },
  ],
  ["decodes a raw + to a space by default", "src/a+b", { bucket: "src", key: "a b", versionId: null }],
  ["keeps a raw + literal when told to", "src/a+b", { bucket: "src", key: "a+b", versionId: null }, false],
  [
    "does not split on the key's text in the bucket",
    "mybucket/e",
    { bucket: "mybucket", key: "e", versionId: null },
  ],
  ["refuses a bucket without a key", "src", "InvalidArgument"],
  ["refuses a bucket with an empty key", "/src/", "InvalidArgument"],
  ["refuses an empty bucket", "//k", "InvalidArgument"],
  ["refuses an empty value", "", "InvalidArgument"],
  ["refuses a bad escape", "src/a%G1", "InvalidArgument"],
  ["refuses a key that is not UTF-8", "src/%FF", "InvalidArgument"],
  [
    "refuses an access-point ARN",
    "arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/k",
    "InvalidArgument",
  ],
  ["refuses an empty version id", "src/k?versionId=", "InvalidArgument"],
  ["refuses a version id without a value", "src/k?versionId", "InvalidArgument"],
  ["refuses two version ids", "src/k?versionId=a&versionId=b", "InvalidArgument"],
  ["refuses another query parameter", "src/k?acl", "InvalidArgument"],
  ["refuses an invalid bucket name", "Src/k", "InvalidBucketName"],
  ["refuses the bucket ..", "../k", "InvalidBucketName"],
  ["refuses an overlong key", `src/${"k".repeat(1025)}`, "KeyTooLongError"],
];

for (const [name, value, expected, plusIsSpace] of ROWS) {
  test(`parseCopySource ${name}`, () => {
    const got = parseCopySource(value, plusIsSpace === undefined ? {} : { plusIsSpace });
    if (typeof expected === "string") {
      assert.ok(got instanceof S3Error, `expected ${expected}, got ${JSON.stringify(got)}`);
      assert.equal(got.code, expected);
    } else {
      assert.deepEqual(got, expected);
    }
  });
}

test("names the header and its value in an InvalidArgument", () => {
  const got = parseCopySource("src");
  assert.ok(got instanceof S3Error);
  assert.deepEqual(got.fields, [
    ["ArgumentName", "x-amz-copy-source"],
    ["ArgumentValue", "src"],
  ]);
});

test("formats a copy source URL-encoded, without a leading slash", () => {
  assert.equal(formatCopySource("data-prod", "a b/c+d", null), "data-prod/a%20b/c%2Bd");
  assert.equal(formatCopySource("data-prod", "k", "3/x+y"), "data-prod/k?versionId=3%2Fx%2By");
});

test("parses back what it formats, in both plus modes", () => {
  const cases: CopySource[] = [
    { bucket: "src", key: "a b+c/€/😀", versionId: null },
    { bucket: "my.src", key: "//..?#&=", versionId: "v+1/=" },
    { bucket: "src", key: "%25", versionId: "null" },
  ];
  for (const c of cases) {
    for (const plusIsSpace of [true, false]) {
      assert.deepEqual(parseCopySource(formatCopySource(c.bucket, c.key, c.versionId), { plusIsSpace }), c);
    }
  }
});
