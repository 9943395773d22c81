/**
 * The S3 operations the gateway tells apart, and the authorization action each one needs (config
 * `authorization.rules[].actions`; docs/architecture.md "Parse"). This table is the one place that maps
 * operations to actions; `classifyOperation` only picks the operation. Operation names are the S3 API
 * reference's, so they double as a bounded metrics label.
 */

/** An authorization action: what a policy rule grants. */
export type S3Action = "read" | "write" | "delete" | "list" | "admin";

export const OPERATION_ACTIONS = {
  // Service
  ListBuckets: "list",

  // Listing: objects, versions, uploads, parts, and the bucket probes every client makes before listing.
  ListObjects: "list",
  ListObjectsV2: "list",
  ListObjectVersions: "list",
  ListMultipartUploads: "list",
  ListParts: "list",
  HeadBucket: "list",
  GetBucketLocation: "list",

  // Reading an object and what hangs off it. SelectObjectContent reads object data (IAM: s3:GetObject).
  GetObject: "read",
  HeadObject: "read",
  GetObjectTagging: "read",
  GetObjectAcl: "read",
  GetObjectRetention: "read",
  GetObjectLegalHold: "read",
  GetObjectAttributes: "read",
  SelectObjectContent: "read",
  // A CORS preflight has no side effect and carries no credentials at S3; the gateway decides whether to
  // authenticate it. "read" so that a read-only browser client is not refused its preflight.
  Options: "read",

  // Writing an object: single PUT, copy (the target; the source needs "read", see parseCopySource),
  // the whole multipart life cycle, and object tag changes.
  PutObject: "write",
  CopyObject: "write",
  CreateMultipartUpload: "write",
  UploadPart: "write",
  UploadPartCopy: "write",
  CompleteMultipartUpload: "write",
  // Aborting discards parts of an upload that never became an object: no stored object can be lost, and
  // upload managers (aws s3 cp, boto3, rclone) abort on every failure, so a write-only principal must be able
  // to, or failed uploads leak parts. Hence "write", not "delete".
  AbortMultipartUpload: "write",
  PutObjectTagging: "write",
  DeleteObjectTagging: "write",
  RestoreObject: "write",

  // Who may access an object and how long it is retained: not a plain write (docs/security.md).
  PutObjectAcl: "admin",
  PutObjectRetention: "admin",
  PutObjectLegalHold: "admin",

  // Deleting objects.
  DeleteObject: "delete",
  DeleteObjects: "delete",

  // The bucket itself and its configuration, read or written.
  CreateBucket: "admin",
  DeleteBucket: "admin",
  GetBucketAcl: "admin",
  PutBucketAcl: "admin",
  GetBucketPolicy: "admin",
  PutBucketPolicy: "admin",
  DeleteBucketPolicy: "admin",
  GetBucketCors: "admin",
  PutBucketCors: "admin",
  DeleteBucketCors: "admin",
  GetBucketLifecycleConfiguration: "admin",
  PutBucketLifecycleConfiguration: "admin",
  DeleteBucketLifecycle: "admin",
  GetBucketVersioning: "admin",
  PutBucketVersioning: "admin",
  GetBucketTagging: "admin",
  PutBucketTagging: "admin",
  DeleteBucketTagging: "admin",
  GetObjectLockConfiguration: "admin",
  PutObjectLockConfiguration: "admin",
  GetBucketWebsite: "admin",
  PutBucketWebsite: "admin",
  DeleteBucketWebsite: "admin",
  GetBucketEncryption: "admin",
  PutBucketEncryption: "admin",
  DeleteBucketEncryption: "admin",
  GetBucketLogging: "admin",
  PutBucketLogging: "admin",

  // Anything not recognised (other methods, unsupported or conflicting sub-resources, POST object uploads):
  // only a rule granting "admin" (or "*") lets it through, never an ordinary read/write grant.
  Unknown: "admin",
} as const satisfies Record<string, S3Action>;

/** An S3 API operation name, or `Unknown`. */
export type S3Operation = keyof typeof OPERATION_ACTIONS;

/** Every operation name, in table order (for metrics pre-registration and exhaustive tests). */
export const S3_OPERATIONS: readonly S3Operation[] = Object.keys(OPERATION_ACTIONS) as S3Operation[];
