/**
 * The query parameters an upstream request may carry, per operation: an allow-list, each value validated.
 * Anything else is refused with 400 InvalidArgument rather than forwarded, because stores read parameters
 * in ways the gateway cannot see (s3rver builds file paths from `uploadId` and `partNumber`; a HEAD on a
 * bucket with `prefix` is answered as a listing). See docs/security.md ("Query parameters").
 *
 * Three kinds of parameter are taken out rather than forwarded: query authentication (`X-Amz-Signature`…,
 * consumed by osp), the SDKs' `x-id` operation tag, and `x-amz-*` headers a presigner hoisted into the query,
 * which are handed back as `hoisted` for the gateway to treat as the request headers they stand for (a
 * hoisted `x-amz-copy-source` among them: the gateway decides whether it may be used, and never forwards it
 * as it came).
 */
import { S3Error } from "@osp/errors";
import { hasDotSegment, type KeyMode } from "./key-segments.js";
import type { S3Operation } from "./operations.js";

/** Query authentication parameters (SigV4 presigned URLs), compared in lower case. */
const AUTH_PARAMS: ReadonlySet<string> = new Set([
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-signedheaders",
  "x-amz-signature",
  "x-amz-security-token",
]);

const RESPONSE_OVERRIDES = [
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
];

/**
 * Per operation, the parameters it may carry besides its own sub-resource (which `classifyOperation`
 * already read). Operations missing here carry their sub-resource alone. `Unknown` (the `admin` action)
 * may carry anything, each known name still validated.
 */
const PARAMS: Partial<Record<S3Operation, ReadonlySet<string>>> = {
  GetObject: new Set(["versionId", "partNumber", ...RESPONSE_OVERRIDES]),
  HeadObject: new Set(["versionId", "partNumber", ...RESPONSE_OVERRIDES]),
  ListObjects: new Set(["prefix", "delimiter", "marker", "max-keys", "encoding-type"]),
  ListObjectsV2: new Set([
    "list-type",
    "prefix",
    "delimiter",
    "continuation-token",
    "start-after",
    "max-keys",
    "encoding-type",
    "fetch-owner",
  ]),
  ListObjectVersions: new Set([
    "prefix",
    "delimiter",
    "key-marker",
    "version-id-marker",
    "max-keys",
    "encoding-type",
  ]),
  ListMultipartUploads: new Set([
    "prefix",
    "delimiter",
    "key-marker",
    "upload-id-marker",
    "max-uploads",
    "encoding-type",
  ]),
  ListParts: new Set(["max-parts", "part-number-marker"]),
  UploadPart: new Set(["partNumber"]),
  UploadPartCopy: new Set(["partNumber"]),
  DeleteObject: new Set(["versionId"]),
  GetObjectTagging: new Set(["versionId"]),
  PutObjectTagging: new Set(["versionId"]),
  DeleteObjectTagging: new Set(["versionId"]),
  GetObjectAcl: new Set(["versionId"]),
  PutObjectAcl: new Set(["versionId"]),
  GetObjectRetention: new Set(["versionId"]),
  PutObjectRetention: new Set(["versionId"]),
  GetObjectLegalHold: new Set(["versionId"]),
  PutObjectLegalHold: new Set(["versionId"]),
  GetObjectAttributes: new Set(["versionId"]),
  RestoreObject: new Set(["versionId"]),
  SelectObjectContent: new Set(["select-type"]),
};

/** The sub-resource each operation is selected by (forwarded without a value). */
const SELECTOR: Partial<Record<S3Operation, string>> = {
  ListObjectVersions: "versions",
  ListMultipartUploads: "uploads",
  GetBucketLocation: "location",
  ListParts: "uploadId",
  UploadPart: "uploadId",
  UploadPartCopy: "uploadId",
  CreateMultipartUpload: "uploads",
  CompleteMultipartUpload: "uploadId",
  AbortMultipartUpload: "uploadId",
  DeleteObjects: "delete",
  GetObjectTagging: "tagging",
  PutObjectTagging: "tagging",
  DeleteObjectTagging: "tagging",
  GetObjectAcl: "acl",
  PutObjectAcl: "acl",
  GetObjectRetention: "retention",
  PutObjectRetention: "retention",
  GetObjectLegalHold: "legal-hold",
  PutObjectLegalHold: "legal-hold",
  GetObjectAttributes: "attributes",
  RestoreObject: "restore",
  SelectObjectContent: "select",
  GetBucketAcl: "acl",
  PutBucketAcl: "acl",
  GetBucketPolicy: "policy",
  PutBucketPolicy: "policy",
  DeleteBucketPolicy: "policy",
  GetBucketCors: "cors",
  PutBucketCors: "cors",
  DeleteBucketCors: "cors",
  GetBucketLifecycleConfiguration: "lifecycle",
  PutBucketLifecycleConfiguration: "lifecycle",
  DeleteBucketLifecycle: "lifecycle",
  GetBucketVersioning: "versioning",
  PutBucketVersioning: "versioning",
  GetBucketTagging: "tagging",
  PutBucketTagging: "tagging",
  DeleteBucketTagging: "tagging",
  GetObjectLockConfiguration: "object-lock",
  PutObjectLockConfiguration: "object-lock",
  GetBucketWebsite: "website",
  PutBucketWebsite: "website",
  DeleteBucketWebsite: "website",
  GetBucketEncryption: "encryption",
  PutBucketEncryption: "encryption",
  DeleteBucketEncryption: "encryption",
  GetBucketLogging: "logging",
  PutBucketLogging: "logging",
};

/** Upload and version ids: opaque to osp, but never a path. */
const MAX_ID_CHARS = 1024;
/** Continuation tokens, markers of ids, response overrides, delimiters. */
const MAX_OPAQUE_CHARS = 4096;

type Validator = (value: string, keys: KeyMode) => boolean;

const digits = (value: string, max: number): boolean => {
  if (value.length === 0 || value.length > 10) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return Number(value) <= max;
};

/** No C0 control character, no DEL (CR/LF would split a header the store echoes). */
const controlFree = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
};

const opaque = (value: string): boolean => value.length <= MAX_OPAQUE_CHARS && controlFree(value);

/** An id a store may use as a file name: bounded, no separator, no `..`. Under `literal` keys, opaque. */
const id: Validator = (value, keys) => {
  if (value.length === 0 || value.length > MAX_ID_CHARS || !controlFree(value)) return false;
  if (keys === "literal") return true;
  return !value.includes("/") && !value.includes("\\") && !value.includes("..");
};

/** A key or key prefix: bounded, control-free, no `..` segment (nor a `.` one before a separator). */
const keyLike: Validator = (value, keys) =>
  value.length <= 1024 && controlFree(value) && (keys === "literal" || !hasDotSegment(value, false));

const VALIDATORS: ReadonlyMap<string, Validator> = new Map<string, Validator>([
  ["partNumber", (v) => digits(v, 10_000) && Number(v) >= 1],
  ["part-number-marker", (v) => digits(v, 10_000)],
  ["max-keys", (v) => digits(v, 2 ** 31 - 1)],
  ["max-parts", (v) => digits(v, 2 ** 31 - 1)],
  ["max-uploads", (v) => digits(v, 2 ** 31 - 1)],
  ["uploadId", id],
  ["versionId", id],
  ["upload-id-marker", (v, keys) => v === "" || id(v, keys)],
  ["version-id-marker", (v, keys) => v === "" || id(v, keys)],
  ["encoding-type", (v) => v === "url"],
  ["list-type", (v) => v === "2"],
  ["fetch-owner", (v) => v === "true" || v === "false"],
  ["select-type", (v) => v === "2"],
  ["prefix", keyLike],
  ["marker", keyLike],
  ["start-after", keyLike],
  ["key-marker", keyLike],
  ["delimiter", (v) => v.length <= 1024 && controlFree(v)],
  ["continuation-token", opaque],
  ...RESPONSE_OVERRIDES.map((name): [string, Validator] => [name, opaque]),
]);

export interface UpstreamQuery {
  /** Decoded `[name, value]` pairs to send, in received order; `null` = valueless (`?uploads`). */
  readonly params: ReadonlyArray<readonly [string, string | null]>;
  /** `x-amz-*` parameters other than query authentication, names lower-cased: headers a presigner hoisted. */
  readonly hoisted: ReadonlyArray<readonly [string, string]>;
}

/**
 * The parameters to send upstream for `operation`, or 400 InvalidArgument naming the first parameter that
 * is not allowed, repeated, or has an invalid value. `query` is `parseQuery`'s output; `keys` is the
 * endpoint's key mode. Pure; never throws; linear in the query's length.
 */
export function upstreamQueryFor(
  operation: S3Operation,
  query: ReadonlyArray<readonly [string, string | null]>,
  keys: KeyMode,
): UpstreamQuery | S3Error {
  // Most requests (every plain GET and PUT) have no query: one shared answer, nothing allocated.
  if (query.length === 0) return NO_QUERY;
  const params: Array<[string, string | null]> = [];
  const hoisted: Array<[string, string]> = [];
  const allowed = PARAMS[operation];
  const selector = SELECTOR[operation];
  const anything = operation === "Unknown";
  let seen: Set<string> | null = null;
  for (const [name, value] of query) {
    if (name === "AWSAccessKeyId" || name === "Signature" || name === "Expires") continue; // SigV2 query auth
    if (name.length > 6 && (name.charCodeAt(0) | 0x20) === 0x78 /* x */) {
      const lower = name.toLowerCase();
      if (AUTH_PARAMS.has(lower)) continue;
      if (lower.startsWith("x-amz-")) {
        // It becomes a header: its name must be one (RFC 9110 token), its value a header value.
        if (!isToken(lower) || value === null || !controlFree(value) || value.length > MAX_OPAQUE_CHARS) {
          return invalid(name);
        }
        hoisted.push([lower, value]);
        continue;
      }
    }
    if (name === "x-id") {
      if (value !== null && !opaque(value)) return invalid(name);
      continue;
    }
    if (name === selector) {
      // The sub-resource's value means nothing to S3 (`?uploads=`); it goes upstream without one. An
      // operation selected by `uploadId` carries the id as its value.
      if (name === "uploadId") {
        if (value === null || !id(value, keys)) return invalid(name);
        if (seen?.has(name)) return invalid(name);
        seen ??= new Set();
        seen.add(name);
        params.push([name, value]);
      } else params.push([name, null]);
      continue;
    }
    if (!anything && (allowed === undefined || !allowed.has(name))) {
      return new S3Error(
        "InvalidArgument",
        `The parameter ${safeName(name)} is not accepted for ${operation}.`,
        {
          fields: [["ArgumentName", safeName(name)]],
        },
      );
    }
    const validator = VALIDATORS.get(name);
    if (validator !== undefined) {
      if (value === null || !validator(value, keys)) return invalid(name);
      // Two values of one parameter: stores differ on which one they take.
      if (seen?.has(name)) return invalid(name);
      seen ??= new Set();
      seen.add(name);
    } else if (value !== null && !opaque(value)) return invalid(name);
    params.push([name, value]);
  }
  return { params, hoisted };
}

/**
 * Whether `value` is an upload or version id osp forwards: 1–1024 characters without control characters,
 * and unless the endpoint keeps keys literally, without `/`, `\` or `..` (a file store may use it as a path).
 */
export function isValidId(value: string, keys: KeyMode): boolean {
  return id(value, keys);
}

/** RFC 9110 token characters only (a header name). */
function isToken(name: string): boolean {
  if (name.length === 0 || name.length > 128) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
    if (!alnum && "!#$%&'*+-.^_`|~".indexOf(name[i]!) < 0) return false;
  }
  return true;
}

const NO_QUERY: UpstreamQuery = Object.freeze({ params: Object.freeze([]), hoisted: Object.freeze([]) });

function invalid(name: string): S3Error {
  return new S3Error("InvalidArgument", `Invalid value for the parameter ${safeName(name)}.`, {
    fields: [["ArgumentName", safeName(name)]],
  });
}

/** A parameter name fit to echo in a message: control characters replaced, at most 64 characters. */
function safeName(name: string): string {
  const short = name.length > 64 ? name.slice(0, 64) : name;
  return controlFree(short) ? short : short.replace(/[\u0000-\u001f\u007f]/g, "?");
}
