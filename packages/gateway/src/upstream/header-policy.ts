/**
 * Which client headers an upstream request may carry, per operation (an allow-list: a header not named
 * here is not forwarded), and which of them change who may access an object or how long it is kept
 * (privileged: they need the `admin` action, whatever the operation's own action). See docs/security.md
 * ("Headers") and the S3 API reference of each operation.
 */
import type { S3Operation } from "@osp/s3";

export interface HeaderPolicy {
  /** Every end-to-end header passes (bucket configuration and `Unknown`: the `admin` action). */
  readonly all: boolean;
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/**
 * ACLs, grants, object lock, governance bypass and website redirects: applied by the store with osp's own
 * (privileged) credentials, so a principal needs `admin` to send them. `x-amz-grant-*` is matched by prefix.
 */
const PRIVILEGED: ReadonlySet<string> = new Set([
  "x-amz-acl",
  "x-amz-object-lock-mode",
  "x-amz-object-lock-retain-until-date",
  "x-amz-object-lock-legal-hold",
  "x-amz-bypass-governance-retention",
  "x-amz-website-redirect-location",
  "x-amz-bucket-object-lock-enabled",
  "x-amz-object-ownership",
]);

/** True for a (lower-case) header name that needs the `admin` action. */
export function isPrivilegedHeader(name: string): boolean {
  return PRIVILEGED.has(name) || name.startsWith("x-amz-grant-");
}

const COMMON = ["x-amz-expected-bucket-owner", "x-amz-request-payer"];
const SSE_C = [
  "x-amz-server-side-encryption-customer-algorithm",
  "x-amz-server-side-encryption-customer-key",
  "x-amz-server-side-encryption-customer-key-md5",
];
const CONDITIONAL = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];
/** A body's type and digests (flexible checksums come by prefix, `CHECKSUM_PREFIX`). */
const BODY = ["content-type", "content-md5", "x-amz-sdk-checksum-algorithm"];
const OBJECT_ATTRIBUTES = [
  "content-type",
  "content-encoding",
  "content-language",
  "content-disposition",
  "cache-control",
  "expires",
  "x-amz-storage-class",
  "x-amz-tagging",
  "x-amz-server-side-encryption",
  "x-amz-server-side-encryption-aws-kms-key-id",
  "x-amz-server-side-encryption-context",
  "x-amz-server-side-encryption-bucket-key-enabled",
];
const OBJECT_ACCESS = [
  "x-amz-acl",
  "x-amz-object-lock-mode",
  "x-amz-object-lock-retain-until-date",
  "x-amz-object-lock-legal-hold",
  "x-amz-website-redirect-location",
];
const COPY = [
  "x-amz-copy-source-if-match",
  "x-amz-copy-source-if-none-match",
  "x-amz-copy-source-if-modified-since",
  "x-amz-copy-source-if-unmodified-since",
  "x-amz-copy-source-server-side-encryption-customer-algorithm",
  "x-amz-copy-source-server-side-encryption-customer-key",
  "x-amz-copy-source-server-side-encryption-customer-key-md5",
];
const META_PREFIX = "x-amz-meta-";
const CHECKSUM_PREFIX = "x-amz-checksum-";
const GRANT_PREFIX = "x-amz-grant-";

function policy(names: readonly string[], prefixes: readonly string[] = []): HeaderPolicy {
  return { all: false, names: new Set([...COMMON, ...names]), prefixes };
}

const ALL: HeaderPolicy = { all: true, names: new Set(), prefixes: [] };
const ONLY_COMMON = policy([]);
const READ_OBJECT = policy([...SSE_C, ...CONDITIONAL, "range", "x-amz-checksum-mode"]);
const SUB_RESOURCE_BODY = policy(BODY, [CHECKSUM_PREFIX]);
const LISTING = policy(["x-amz-optional-object-attributes"]);

const POLICIES: Partial<Record<S3Operation, HeaderPolicy>> = {
  GetObject: READ_OBJECT,
  HeadObject: READ_OBJECT,
  PutObject: policy(
    [...BODY, ...SSE_C, ...OBJECT_ATTRIBUTES, ...OBJECT_ACCESS, "if-match", "if-none-match"],
    [META_PREFIX, CHECKSUM_PREFIX, GRANT_PREFIX],
  ),
  CopyObject: policy(
    [
      ...SSE_C,
      ...OBJECT_ATTRIBUTES,
      ...OBJECT_ACCESS,
      ...COPY,
      "x-amz-metadata-directive",
      "x-amz-tagging-directive",
      "x-amz-checksum-algorithm",
      "if-match",
      "if-none-match",
    ],
    [META_PREFIX, GRANT_PREFIX],
  ),
  CreateMultipartUpload: policy(
    [...SSE_C, ...OBJECT_ATTRIBUTES, ...OBJECT_ACCESS],
    [META_PREFIX, CHECKSUM_PREFIX, GRANT_PREFIX],
  ),
  UploadPart: policy([...BODY, ...SSE_C], [CHECKSUM_PREFIX]),
  UploadPartCopy: policy([...SSE_C, ...COPY, "x-amz-copy-source-range"]),
  CompleteMultipartUpload: policy(
    [...BODY, ...SSE_C, "if-match", "if-none-match", "x-amz-mp-object-size"],
    [CHECKSUM_PREFIX],
  ),
  AbortMultipartUpload: policy(["x-amz-if-match-initiated-time"]),
  ListParts: policy(SSE_C),
  DeleteObject: policy([
    "x-amz-mfa",
    "x-amz-bypass-governance-retention",
    "if-match",
    "x-amz-if-match-last-modified-time",
    "x-amz-if-match-size",
  ]),
  // The body is osp's own (pipeline/exchange.ts), so are its type and digest.
  DeleteObjects: policy(["x-amz-mfa", "x-amz-bypass-governance-retention"]),
  ListObjects: LISTING,
  ListObjectsV2: LISTING,
  ListObjectVersions: LISTING,
  ListMultipartUploads: ONLY_COMMON,
  HeadBucket: ONLY_COMMON,
  GetBucketLocation: ONLY_COMMON,
  GetObjectTagging: ONLY_COMMON,
  GetObjectAcl: ONLY_COMMON,
  GetObjectRetention: ONLY_COMMON,
  GetObjectLegalHold: ONLY_COMMON,
  GetObjectAttributes: policy([
    ...SSE_C,
    "x-amz-object-attributes",
    "x-amz-max-parts",
    "x-amz-part-number-marker",
  ]),
  PutObjectTagging: SUB_RESOURCE_BODY,
  DeleteObjectTagging: ONLY_COMMON,
  RestoreObject: SUB_RESOURCE_BODY,
  SelectObjectContent: policy([...BODY, ...SSE_C], [CHECKSUM_PREFIX]),
  PutObjectAcl: policy([...BODY, "x-amz-acl"], [CHECKSUM_PREFIX, GRANT_PREFIX]),
  PutObjectRetention: policy([...BODY, "x-amz-bypass-governance-retention"], [CHECKSUM_PREFIX]),
  PutObjectLegalHold: SUB_RESOURCE_BODY,
  Options: policy(["origin", "access-control-request-method", "access-control-request-headers"]),
};

/** The forwarding policy of an operation; bucket configuration and `Unknown` (all `admin`) pass everything. */
export function headerPolicy(operation: S3Operation): HeaderPolicy {
  return POLICIES[operation] ?? ALL;
}

/** Whether `policy` lets the (lower-case) header `name` through. */
export function allowsHeader(policy: HeaderPolicy, name: string): boolean {
  if (policy.all || policy.names.has(name)) return true;
  for (const prefix of policy.prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

/** Operations whose request carries no body upstream: a client body on them is refused. */
export const BODILESS: ReadonlySet<S3Operation> = new Set([
  "GetObject",
  "HeadObject",
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListMultipartUploads",
  "ListParts",
  "HeadBucket",
  "GetBucketLocation",
  "GetObjectTagging",
  "GetObjectAcl",
  "GetObjectRetention",
  "GetObjectLegalHold",
  "GetObjectAttributes",
  "DeleteObject",
  "DeleteObjectTagging",
  "AbortMultipartUpload",
  "CopyObject",
  "UploadPartCopy",
  "CreateMultipartUpload",
  "Options",
]);
