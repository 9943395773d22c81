/**
 * Which S3 operation a request is, from its method, target, query names and one header. S3 picks the
 * operation from the sub-resource in the query (`?acl`, `?uploads`, `?tagging`…); other parameters
 * (`versionId`, `partNumber`, `prefix`, `response-*`, the SDKs' `x-id`) only qualify it.
 *
 * Safety rule: whatever this cannot name with certainty is `Unknown` (action "admin"), never a guess
 * with a weaker action. So two different sub-resources (`?location&acl`: which would the store serve?),
 * a sub-resource on the wrong level or method, a known but unsupported sub-resource (`?replication`), an
 * `x-amz-copy-source` on a PUT that is no copy, two copy sources, or a method S3 does not have all give
 * `Unknown`. A copy source in the query (a presigner hoisted the header) counts as one; whether it may be
 * used (only when signed, in a presigned URL) is the gateway's decision.
 */
import { OPERATION_ACTIONS, type S3Action, type S3Operation } from "./operations.js";
import type { S3Target } from "./resolve-target.js";

export interface Classification {
  readonly operation: S3Operation;
  readonly action: S3Action;
}

/**
 * Query names that select an operation. Those mapped in no table below are S3 (or IBM COS) features the
 * gateway does not name (replication, inventory, IBM's `protection`, `legalHold`, `extendRetention`…):
 * they classify as `Unknown` rather than as a plain GetObject/PutObject with a weaker action.
 */
const SELECTORS: ReadonlySet<string> = new Set([
  "acl",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "legal-hold",
  "lifecycle",
  "location",
  "logging",
  "object-lock",
  "policy",
  "restore",
  "retention",
  "select",
  "tagging",
  "uploadId",
  "uploads",
  "versioning",
  "versions",
  "website",
  // Known, not named by the gateway:
  "accelerate",
  "analytics",
  "extendRetention",
  "intelligent-tiering",
  "inventory",
  "legalHold",
  "metadataConfiguration",
  "metadataTable",
  "metrics",
  "notification",
  "ownershipControls",
  "policyStatus",
  "protection",
  "publicAccessBlock",
  "renameObject",
  "replication",
  "requestPayment",
  "session",
  "torrent",
]);

/** Per method, sub-resource (`""` = none) → operation. A miss is `Unknown`. */
type Table = ReadonlyMap<string, ReadonlyMap<string, S3Operation>>;

function table(spec: Record<string, Record<string, S3Operation>>): Table {
  return new Map(Object.entries(spec).map(([method, ops]) => [method, new Map(Object.entries(ops))]));
}

const BUCKET_OPERATIONS = table({
  GET: {
    "": "ListObjects", // or ListObjectsV2, by list-type
    uploads: "ListMultipartUploads",
    versions: "ListObjectVersions",
    location: "GetBucketLocation",
    acl: "GetBucketAcl",
    policy: "GetBucketPolicy",
    cors: "GetBucketCors",
    lifecycle: "GetBucketLifecycleConfiguration",
    versioning: "GetBucketVersioning",
    tagging: "GetBucketTagging",
    "object-lock": "GetObjectLockConfiguration",
    website: "GetBucketWebsite",
    encryption: "GetBucketEncryption",
    logging: "GetBucketLogging",
  },
  HEAD: { "": "HeadBucket" },
  PUT: {
    "": "CreateBucket",
    acl: "PutBucketAcl",
    policy: "PutBucketPolicy",
    cors: "PutBucketCors",
    lifecycle: "PutBucketLifecycleConfiguration",
    versioning: "PutBucketVersioning",
    tagging: "PutBucketTagging",
    "object-lock": "PutObjectLockConfiguration",
    website: "PutBucketWebsite",
    encryption: "PutBucketEncryption",
    logging: "PutBucketLogging",
  },
  DELETE: {
    "": "DeleteBucket",
    policy: "DeleteBucketPolicy",
    cors: "DeleteBucketCors",
    lifecycle: "DeleteBucketLifecycle",
    tagging: "DeleteBucketTagging",
    website: "DeleteBucketWebsite",
    encryption: "DeleteBucketEncryption",
  },
  // A POST without `?delete` is a browser form upload (PostObject): its credentials are inside the
  // multipart body, which the gateway does not authenticate, so it stays Unknown.
  POST: { delete: "DeleteObjects" },
});

const OBJECT_OPERATIONS = table({
  GET: {
    "": "GetObject",
    uploadId: "ListParts",
    tagging: "GetObjectTagging",
    acl: "GetObjectAcl",
    retention: "GetObjectRetention",
    "legal-hold": "GetObjectLegalHold",
    attributes: "GetObjectAttributes",
  },
  HEAD: { "": "HeadObject" },
  PUT: {
    "": "PutObject", // or CopyObject, by x-amz-copy-source
    uploadId: "UploadPart", // or UploadPartCopy; needs partNumber too
    tagging: "PutObjectTagging",
    acl: "PutObjectAcl",
    retention: "PutObjectRetention",
    "legal-hold": "PutObjectLegalHold",
  },
  DELETE: { "": "DeleteObject", uploadId: "AbortMultipartUpload", tagging: "DeleteObjectTagging" },
  POST: {
    uploads: "CreateMultipartUpload",
    uploadId: "CompleteMultipartUpload",
    restore: "RestoreObject",
    select: "SelectObjectContent", // needs select-type=2
  },
});

/** One frozen answer per operation: classifying allocates nothing. */
const ANSWERS = Object.fromEntries(
  Object.entries(OPERATION_ACTIONS).map(([operation, action]) => [
    operation,
    Object.freeze({ operation, action }),
  ]),
) as unknown as Readonly<Record<S3Operation, Classification>>;

/**
 * Classifies a request. `method` in any case (uWS hands it lowercased); `target` from `resolveTarget`;
 * `query` from `parseQuery` (names are case-sensitive, as at S3); `headers` as `[name, value]` pairs in any
 * name case (only `x-amz-copy-source` is looked at). The action comes from `OPERATION_ACTIONS`.
 * Pure; never throws.
 */
export function classifyOperation(
  method: string,
  target: S3Target,
  query: ReadonlyArray<readonly [string, string | null]>,
  headers: ReadonlyArray<readonly [string, string]>,
): Classification {
  return ANSWERS[pickOperation(method.toUpperCase(), target, query, headers)];
}

/** Any case, as stores compare header names; tested without allocating (presigned queries run through here). */
const COPY_SOURCE = /^x-amz-copy-source$/i;

function pickOperation(
  method: string,
  target: S3Target,
  query: ReadonlyArray<readonly [string, string | null]>,
  headers: ReadonlyArray<readonly [string, string]>,
): S3Operation {
  if (method === "OPTIONS") return "Options";

  let selector = "";
  let copySources = hasHeader(headers, "x-amz-copy-source") ? 1 : 0;
  for (const [name] of query) {
    if (name.length === 17 && COPY_SOURCE.test(name)) copySources++;
    if (!SELECTORS.has(name) || name === selector) continue;
    if (selector !== "") return "Unknown";
    selector = name;
  }

  if (target.bucket === null) return method === "GET" && selector === "" ? "ListBuckets" : "Unknown";

  if (target.key === null) {
    const operation = BUCKET_OPERATIONS.get(method)?.get(selector) ?? "Unknown";
    if (operation === "ListObjects" && queryValue(query, "list-type") === "2") return "ListObjectsV2";
    return operation;
  }

  // Two copy sources (header and query, or twice): which one would the store use?
  if (copySources > 1) return "Unknown";
  const operation = OBJECT_OPERATIONS.get(method)?.get(selector) ?? "Unknown";
  if (method === "PUT") {
    const copy = copySources === 1;
    if (operation === "PutObject") return copy ? "CopyObject" : "PutObject";
    if (operation === "UploadPart") {
      if (!hasName(query, "partNumber")) return "Unknown";
      return copy ? "UploadPartCopy" : "UploadPart";
    }
    // A copy source on a tagging/ACL/retention PUT: the store would ignore it, but a request that says
    // two things is refused the benefit of the doubt.
    if (copy) return "Unknown";
  }
  if (operation === "SelectObjectContent" && queryValue(query, "select-type") !== "2") return "Unknown";
  return operation;
}

/** Value of the first parameter called `name`; undefined when absent. */
function queryValue(
  query: ReadonlyArray<readonly [string, string | null]>,
  name: string,
): string | null | undefined {
  for (const [n, v] of query) if (n === name) return v;
  return undefined;
}

function hasName(query: ReadonlyArray<readonly [string, string | null]>, name: string): boolean {
  return queryValue(query, name) !== undefined;
}

function hasHeader(headers: ReadonlyArray<readonly [string, string]>, lowerName: string): boolean {
  for (const [n] of headers) if (n.length === lowerName.length && n.toLowerCase() === lowerName) return true;
  return false;
}
