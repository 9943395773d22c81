/**
 * Phase 3 of the pipeline (docs/architecture.md "Authorize"): the request's authorization questions, asked
 * of the worker's `Authorizer` (rules, hook, webhook; see authorizer.ts). The object or listing
 * itself, the copy source of a CopyObject/UploadPartCopy (a read of another object), and, for ListBuckets,
 * each bucket the stores list. Throws S3Error AccessDenied; an authorizer that answers synchronously is never
 * awaited.
 */
import { S3Error } from "@osp/errors";
import { type ListedBucket, parseCopySource, type S3Action, type S3Target } from "@osp/s3";
import type { AuthenticatedRequest } from "@osp/sigv4";
import type { ClientCredential } from "../identity/credential.js";
import { resolveRoute } from "../routing/bucket-patterns.js";
import type { Route, Routes } from "../routing/routes.js";
import type { Authorizer, AuthzFacts } from "./rules.js";

const LIST_OPERATIONS = new Set([
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListMultipartUploads",
]);

/** The request facts every authorization of this request shares. */
export function requestFacts(
  method: string,
  sourceIp: string,
  operation: string,
  credential: ClientCredential,
  auth: AuthenticatedRequest | null,
): AuthzFacts {
  return {
    principal: credential.principal,
    accessKeyId: credential.accessKeyId,
    action: "read",
    operation,
    bucket: null,
    key: null,
    listPrefix: null,
    method,
    sourceIp,
    presigned: auth !== null && auth.mechanism === "presigned",
  };
}

/** The request's own object, bucket or listing (listings by their `prefix` parameter). */
export async function authorizeTarget(
  authorizer: Authorizer,
  facts: AuthzFacts,
  action: S3Action,
  target: S3Target,
  query: ReadonlyArray<readonly [string, string | null]>,
): Promise<void> {
  const listPrefix = LIST_OPERATIONS.has(facts.operation) ? listingPrefix(query) : null;
  await demand(authorizer, { ...facts, action, bucket: target.bucket, key: target.key, listPrefix });
}

/**
 * The `prefix` a listing is authorized by. A repeated one is refused: stores differ on which value they use,
 * and the one authorized must be the one applied.
 */
function listingPrefix(query: ReadonlyArray<readonly [string, string | null]>): string {
  let prefix: string | null | undefined;
  for (const [name, value] of query) {
    if (name !== "prefix") continue;
    if (prefix !== undefined) {
      throw new S3Error("InvalidArgument", "The prefix parameter may appear once.", {
        fields: [["ArgumentName", "prefix"]],
      });
    }
    prefix = value;
  }
  return prefix ?? "";
}

/** How a copy source is decoded: as the request line is (`+` as configured, the same key-length limit). */
export interface CopySourceDecoding {
  readonly plusIsSpace: boolean;
  readonly maxKeyBytes: number;
}

/** `x-amz-copy-source`: a read of the source object, which must be a configured bucket. */
export async function authorizeCopySource(
  authorizer: Authorizer,
  routes: Routes,
  decoding: CopySourceDecoding,
  facts: AuthzFacts,
  value: string,
): Promise<{ route: Route; key: string; versionId: string | null }> {
  const source = parseCopySource(value, decoding);
  if (source instanceof S3Error) throw source;
  await demand(authorizer, {
    ...facts,
    action: "read",
    operation: "GetObject",
    bucket: source.bucket,
    key: source.key,
    listPrefix: null,
  });
  // The same resolution as the request's own bucket: exact keys, then globs (routing/bucket-patterns.ts).
  const route = resolveRoute(routes, source.bucket);
  if (route === null)
    throw new S3Error("NoSuchBucket", undefined, { fields: [["BucketName", source.bucket]] });
  return { route, key: source.key, versionId: source.versionId };
}

/**
 * DeleteObjects: each key of its body, as a delete of that key (so a prefix-limited grant covers the keys
 * under its prefixes, and a deny covers the keys it names). Verdicts are asked together.
 */
export async function authorizeDeletedKeys(
  authorizer: Authorizer,
  facts: AuthzFacts,
  bucket: string,
  keys: readonly string[],
): Promise<void> {
  const pending: Array<Promise<boolean>> = [];
  for (const key of keys) {
    const verdict = authorizer({ ...facts, action: "delete", bucket, key, listPrefix: null });
    if (verdict === false) throw new S3Error("AccessDenied");
    if (verdict !== true) pending.push(verdict);
  }
  if (pending.length > 0 && !(await Promise.all(pending)).every((v) => v === true)) {
    throw new S3Error("AccessDenied");
  }
}

/**
 * A bucket probe (HeadBucket, GetBucketLocation): whether the caller may list the whole bucket, and so see
 * what a store adds to the answer about its contents. Synchronous when the rules alone decide.
 */
export function mayListWholeBucket(
  authorizer: Authorizer,
  facts: AuthzFacts,
  bucket: string | null,
): boolean | Promise<boolean> {
  return authorizer({
    ...facts,
    action: "list",
    operation: "ListObjectsV2",
    bucket,
    key: null,
    listPrefix: "",
  });
}

/** ListBuckets: of the stores' buckets (routing/bucket-listings.ts), those the caller may list any part of. */
export async function visibleBuckets(
  authorizer: Authorizer,
  facts: AuthzFacts,
  buckets: readonly ListedBucket[],
): Promise<ListedBucket[]> {
  const verdicts = buckets.map((bucket) =>
    authorizer({
      ...facts,
      action: "list",
      operation: "ListObjectsV2",
      bucket: bucket.name,
      key: null,
      listPrefix: null,
    }),
  );
  // Rules alone answer synchronously: no promise per bucket then.
  const settled = verdicts.every((v) => typeof v === "boolean") ? verdicts : await Promise.all(verdicts);
  return buckets.filter((_, i) => settled[i] === true);
}

async function demand(authorizer: Authorizer, facts: AuthzFacts): Promise<void> {
  const verdict = authorizer(facts);
  if (!(verdict === true || (verdict !== false && (await verdict)))) throw new S3Error("AccessDenied");
}
