/**
 * Which route serves a client's bucket name, and which client name an upstream bucket has:
 * an exact key of `buckets` first (a map lookup), then the glob keys by specificity (the longest literal
 * prefix, `"*"` last; the config refuses two equally specific globs that overlap). A glob's
 * `upstreamBucket` template names the bucket at the endpoint. Both directions agree: a name is served only
 * when the upstream bucket it reaches maps back to it, so one upstream bucket never has two client names
 * (rules on one cannot be bypassed through the other) and ListBuckets can name every bucket it shows.
 */
import { applyBucketTemplate, matchBucketGlob, reverseBucketTemplate } from "@osp/config";
import { isValidBucketName } from "@osp/s3";
import { type Endpoint, type Route, type Routes, upstreamKey } from "./routes.js";

/**
 * The route of client bucket `bucket`, or null (NoSuchBucket): no key matches it, its templated name is
 * not a valid bucket name, or the upstream bucket it reaches has another client name (an exact key's, or
 * a more specific glob's: `canonicalName`).
 */
export function resolveRoute(routes: Routes, bucket: string): Route | null {
  const exact = routes.byBucket.get(bucket);
  if (exact !== undefined) return exact;
  for (const pattern of routes.patterns) {
    if (!matchBucketGlob(pattern.glob, bucket)) continue;
    const upstreamBucket = applyBucketTemplate(pattern.template, bucket);
    if (!isValidBucketName(upstreamBucket)) return null;
    if (canonicalName(routes, pattern.endpoint, upstreamBucket) !== bucket) return null;
    return {
      bucket,
      key: pattern.glob,
      upstreamBucket,
      instance: pattern.instance,
      endpoint: pattern.endpoint,
    };
  }
  return null;
}

/** The client name of upstream bucket `upstreamBucket` at `endpoint`, or null when osp serves it under none. */
export function clientBucketName(routes: Routes, endpoint: Endpoint, upstreamBucket: string): string | null {
  const bucket = canonicalName(routes, endpoint, upstreamBucket);
  if (bucket === null) return null;
  // Served under that name only if no exact key or more specific glob sends it elsewhere.
  const route = resolveRoute(routes, bucket);
  return route !== null && route.endpoint === endpoint && route.upstreamBucket === upstreamBucket
    ? bucket
    : null;
}

/**
 * The one name an upstream bucket may have: an exact key's that reaches it, else the first glob's (in
 * order of specificity) whose template reverses to a name it matches.
 */
function canonicalName(routes: Routes, endpoint: Endpoint, upstreamBucket: string): string | null {
  const exact = routes.byUpstream.get(upstreamKey(endpoint, upstreamBucket));
  if (exact !== undefined) return exact.bucket;
  for (const pattern of routes.patterns) {
    if (pattern.endpoint !== endpoint) continue;
    const bucket = reverseBucketTemplate(pattern.template, upstreamBucket);
    if (bucket !== null && isValidBucketName(bucket) && matchBucketGlob(pattern.glob, bucket)) return bucket;
  }
  return null;
}
