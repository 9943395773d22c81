import assert from "node:assert/strict";
import { test } from "node:test";
import {
  classifyOperation,
  OPERATION_ACTIONS,
  parseQuery,
  S3_OPERATIONS,
  type S3Action,
  type S3Operation,
  type S3Target,
} from "../src/index.js";

const SERVICE: S3Target = { style: "path", bucket: null, key: null, rawKey: null };
const BUCKET: S3Target = { style: "path", bucket: "data", key: null, rawKey: null };
const OBJECT: S3Target = { style: "path", bucket: "data", key: "a/b.txt", rawKey: "a/b.txt" };
const LEVELS = { service: SERVICE, bucket: BUCKET, object: OBJECT } as const;

const COPY: ReadonlyArray<[string, string]> = [["X-Amz-Copy-Source", "/src/k"]];

type Row = [
  method: string,
  level: keyof typeof LEVELS,
  query: string,
  operation: S3Operation,
  action: S3Action,
  headers?: ReadonlyArray<[string, string]>,
];

const ROWS: Row[] = [
  // Service
  ["GET", "service", "", "ListBuckets", "list"],
  ["GET", "service", "x-id=ListBuckets&max-buckets=10", "ListBuckets", "list"],
  ["GET", "service", "extended", "ListBuckets", "list"],
  ["OPTIONS", "service", "", "Options", "read"],

  // Bucket: listing and probes
  ["GET", "bucket", "", "ListObjects", "list"],
  ["GET", "bucket", "prefix=a%2F&delimiter=%2F&encoding-type=url", "ListObjects", "list"],
  ["GET", "bucket", "list-type=2&prefix=a", "ListObjectsV2", "list"],
  ["GET", "bucket", "versions", "ListObjectVersions", "list"],
  ["GET", "bucket", "uploads", "ListMultipartUploads", "list"],
  ["GET", "bucket", "uploads=&prefix=x", "ListMultipartUploads", "list"],
  ["HEAD", "bucket", "", "HeadBucket", "list"],
  ["GET", "bucket", "location", "GetBucketLocation", "list"],

  // Bucket: administration
  ["PUT", "bucket", "", "CreateBucket", "admin"],
  ["DELETE", "bucket", "", "DeleteBucket", "admin"],
  ["GET", "bucket", "acl", "GetBucketAcl", "admin"],
  ["PUT", "bucket", "acl", "PutBucketAcl", "admin"],
  ["GET", "bucket", "policy", "GetBucketPolicy", "admin"],
  ["PUT", "bucket", "policy", "PutBucketPolicy", "admin"],
  ["DELETE", "bucket", "policy", "DeleteBucketPolicy", "admin"],
  ["GET", "bucket", "cors", "GetBucketCors", "admin"],
  ["PUT", "bucket", "cors", "PutBucketCors", "admin"],
  ["DELETE", "bucket", "cors", "DeleteBucketCors", "admin"],
  ["GET", "bucket", "lifecycle", "GetBucketLifecycleConfiguration", "admin"],
  ["PUT", "bucket", "lifecycle", "PutBucketLifecycleConfiguration", "admin"],
  ["DELETE", "bucket", "lifecycle", "DeleteBucketLifecycle", "admin"],
  ["GET", "bucket", "versioning", "GetBucketVersioning", "admin"],
  ["PUT", "bucket", "versioning", "PutBucketVersioning", "admin"],
  ["GET", "bucket", "tagging", "GetBucketTagging", "admin"],
  ["PUT", "bucket", "tagging", "PutBucketTagging", "admin"],
  ["DELETE", "bucket", "tagging", "DeleteBucketTagging", "admin"],
  ["GET", "bucket", "object-lock", "GetObjectLockConfiguration", "admin"],
  ["PUT", "bucket", "object-lock", "PutObjectLockConfiguration", "admin"],
  ["GET", "bucket", "website", "GetBucketWebsite", "admin"],
  ["PUT", "bucket", "website", "PutBucketWebsite", "admin"],
  ["DELETE", "bucket", "website", "DeleteBucketWebsite", "admin"],
  ["GET", "bucket", "encryption", "GetBucketEncryption", "admin"],
  ["PUT", "bucket", "encryption", "PutBucketEncryption", "admin"],
  ["DELETE", "bucket", "encryption", "DeleteBucketEncryption", "admin"],
  ["GET", "bucket", "logging", "GetBucketLogging", "admin"],
  ["PUT", "bucket", "logging", "PutBucketLogging", "admin"],
  ["OPTIONS", "bucket", "", "Options", "read"],

  // Bucket: deleting objects
  ["POST", "bucket", "delete", "DeleteObjects", "delete"],
  ["POST", "bucket", "delete=&x-id=DeleteObjects", "DeleteObjects", "delete"],

  // Object: reading
  ["GET", "object", "", "GetObject", "read"],
  ["GET", "object", "versionId=abc&partNumber=2&response-content-type=text%2Fplain", "GetObject", "read"],
  ["HEAD", "object", "", "HeadObject", "read"],
  ["HEAD", "object", "partNumber=1", "HeadObject", "read"],
  ["GET", "object", "tagging", "GetObjectTagging", "read"],
  ["GET", "object", "tagging&versionId=v1", "GetObjectTagging", "read"],
  ["GET", "object", "acl", "GetObjectAcl", "read"],
  ["GET", "object", "retention", "GetObjectRetention", "read"],
  ["GET", "object", "legal-hold", "GetObjectLegalHold", "read"],
  ["GET", "object", "attributes", "GetObjectAttributes", "read"],
  ["POST", "object", "select&select-type=2", "SelectObjectContent", "read"],
  ["OPTIONS", "object", "", "Options", "read"],
  ["GET", "object", "uploadId=u1", "ListParts", "list"],

  // Object: writing
  ["PUT", "object", "", "PutObject", "write"],
  ["PUT", "object", "x-id=PutObject", "PutObject", "write"],
  ["PUT", "object", "", "CopyObject", "write", COPY],
  ["POST", "object", "uploads", "CreateMultipartUpload", "write"],
  ["PUT", "object", "partNumber=1&uploadId=u1", "UploadPart", "write"],
  ["PUT", "object", "partNumber=1&uploadId=u1", "UploadPartCopy", "write", COPY],
  ["POST", "object", "uploadId=u1", "CompleteMultipartUpload", "write"],
  ["DELETE", "object", "uploadId=u1", "AbortMultipartUpload", "write"],
  ["PUT", "object", "tagging", "PutObjectTagging", "write"],
  ["DELETE", "object", "tagging", "DeleteObjectTagging", "write"],
  ["PUT", "object", "acl", "PutObjectAcl", "admin"],
  ["PUT", "object", "retention", "PutObjectRetention", "admin"],
  ["PUT", "object", "legal-hold", "PutObjectLegalHold", "admin"],
  ["POST", "object", "restore", "RestoreObject", "write"],

  // Object: deleting
  ["DELETE", "object", "", "DeleteObject", "delete"],
  ["DELETE", "object", "versionId=v1", "DeleteObject", "delete"],

  // Method case: uWS hands methods lowercased
  ["get", "object", "", "GetObject", "read"],
  ["put", "bucket", "", "CreateBucket", "admin"],

  // Unknown: never a guess with a weaker action
  ["PATCH", "object", "", "Unknown", "admin"],
  ["CONNECT", "service", "", "Unknown", "admin"],
  ["PUT", "service", "", "Unknown", "admin"],
  ["DELETE", "service", "", "Unknown", "admin"],
  ["HEAD", "service", "", "Unknown", "admin"],
  ["GET", "service", "acl", "Unknown", "admin"],
  ["POST", "bucket", "", "Unknown", "admin"],
  ["POST", "object", "", "Unknown", "admin"],
  ["GET", "bucket", "location&acl", "Unknown", "admin"],
  ["GET", "object", "tagging&acl", "Unknown", "admin"],
  ["DELETE", "object", "uploadId=u1&tagging", "Unknown", "admin"],
  ["GET", "bucket", "replication", "Unknown", "admin"],
  ["PUT", "bucket", "notification", "Unknown", "admin"],
  ["GET", "object", "torrent", "Unknown", "admin"],
  ["PUT", "bucket", "protection", "Unknown", "admin"],
  ["POST", "object", "legalHold&action=add&id=x", "Unknown", "admin"],
  ["GET", "bucket", "uploadId=u1", "Unknown", "admin"],
  ["GET", "object", "versions", "Unknown", "admin"],
  ["GET", "object", "location", "Unknown", "admin"],
  ["PUT", "object", "uploadId=u1", "Unknown", "admin"],
  ["PUT", "object", "uploads", "Unknown", "admin"],
  ["PUT", "object", "tagging", "Unknown", "admin", COPY],
  ["POST", "object", "select", "Unknown", "admin"],
  ["POST", "object", "select&select-type=1", "Unknown", "admin"],
  ["HEAD", "object", "acl", "Unknown", "admin"],
  ["HEAD", "bucket", "versioning", "Unknown", "admin"],
  ["DELETE", "bucket", "versioning", "Unknown", "admin"],
  ["POST", "bucket", "uploads", "Unknown", "admin"],
];

for (const [method, level, query, operation, action, headers] of ROWS) {
  const q = query === "" ? "" : `?${query}`;
  const h = headers === undefined ? "" : " with x-amz-copy-source";
  test(`classifies ${method} on the ${level}${q}${h} as ${operation} (${action})`, () => {
    const parsed = parseQuery(query);
    assert.ok(Array.isArray(parsed));
    assert.deepEqual(classifyOperation(method, LEVELS[level], parsed, headers ?? []), { operation, action });
  });
}

test("covers every operation in the table", () => {
  const covered = new Set(ROWS.map((row) => row[3]));
  assert.deepEqual(
    S3_OPERATIONS.filter((op) => !covered.has(op)),
    [],
  );
});

test("takes every action from OPERATION_ACTIONS", () => {
  for (const row of ROWS) assert.equal(OPERATION_ACTIONS[row[3]], row[4]);
});

test("treats a repeated sub-resource as one", () => {
  const got = classifyOperation(
    "GET",
    BUCKET,
    [
      ["acl", null],
      ["acl", ""],
    ],
    [],
  );
  assert.deepEqual(got, { operation: "GetBucketAcl", action: "admin" });
});

test("does not mistake query names for prototype properties", () => {
  const got = classifyOperation(
    "GET",
    OBJECT,
    [
      ["constructor", null],
      ["__proto__", null],
    ],
    [],
  );
  assert.deepEqual(got, { operation: "GetObject", action: "read" });
});

test("classifies virtual-hosted targets like path-style ones", () => {
  const target: S3Target = { style: "virtual", bucket: "data", key: null, rawKey: null };
  assert.equal(classifyOperation("GET", target, [["list-type", "2"]], []).operation, "ListObjectsV2");
});

test("reads a copy source hoisted into the query as one, whatever its case; two are Unknown", () => {
  for (const name of ["x-amz-copy-source", "X-Amz-Copy-Source"]) {
    const got = classifyOperation("PUT", OBJECT, [[name, "/data/secret.txt"]], []);
    assert.deepEqual(got, { operation: "CopyObject", action: "write" }, name);
    const part = classifyOperation(
      "PUT",
      OBJECT,
      [
        ["partNumber", "1"],
        ["uploadId", "u"],
        [name, "/data/s"],
      ],
      [],
    );
    assert.equal(part.operation, "UploadPartCopy");
    const twice = classifyOperation("PUT", OBJECT, [[name, "/data/a"]], COPY);
    assert.deepEqual(twice, { operation: "Unknown", action: "admin" }, `${name} and the header`);
    const tagging = classifyOperation(
      "PUT",
      OBJECT,
      [
        ["tagging", null],
        [name, "/data/a"],
      ],
      [],
    );
    assert.equal(tagging.operation, "Unknown", "a copy source on a tagging PUT");
  }
  // Its conditionals and range are hoisted headers of their own, not copy sources.
  assert.equal(
    classifyOperation("PUT", OBJECT, [["x-amz-copy-source-range", "bytes=0-1"]], []).operation,
    "PutObject",
  );
  assert.equal(classifyOperation("GET", OBJECT, [["x-amz-copy", null]], []).operation, "GetObject");
});
