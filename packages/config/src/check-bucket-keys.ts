/**
 * The config check of `buckets` keys and `upstreamBucket` templates: key shapes, templates,
 * and the mappings that cannot be made one-to-one, refused here rather than guessed at per request:
 * - ambiguous: two globs match a name with equally long literal prefixes, so neither is the more specific;
 * - irreversible: a glob whose `upstreamBucket` has no `{bucket}` (every name it matches reaches one
 *   bucket), or two exact keys that reach the same bucket of one endpoint: ListBuckets could not name it,
 *   and rules on one name could be bypassed through the other.
 * Where an exact key and a glob, or two globs, could reach one upstream bucket, the gateway serves it under
 * one name only (the exact key's, else the most specific glob's; bucket-patterns.ts) and the other name is
 * NoSuchBucket, so a catch-all `"*"` can sit beside renamed buckets.
 */
import {
  applyBucketTemplate,
  type BucketTemplate,
  bucketGlobsOverlap,
  globLiteralPrefix,
  isBucketGlob,
  parseBucketTemplate,
} from "./bucket-names.js";
import type { RawConfig } from "./schema.js";

interface Problem {
  readonly path: string;
  readonly message: string;
}

interface Entry {
  readonly key: string;
  readonly glob: boolean;
  readonly endpoint: string;
  readonly template: BucketTemplate;
  /** Every upstream name the entry reaches, as a glob (a plain name for exact entries). */
  readonly upstream: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const BUCKET_GLOB = /^[a-z0-9.*?-]{1,63}$/;

export function checkBucketKeys(config: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const entries: Entry[] = [];
  for (const [key, bucket] of Object.entries(config.buckets)) {
    const glob = isBucketGlob(key);
    if (glob ? !BUCKET_GLOB.test(key) : !BUCKET_NAME.test(key)) {
      problems.push({
        path: `buckets.${key}`,
        message: glob
          ? "is not a valid bucket glob (1-63 of a-z 0-9 . - and the wildcards * ?)"
          : "is not a valid S3 bucket name (3-63 of a-z 0-9 . -)",
      });
      continue;
    }
    const template = parseBucketTemplate(bucket.upstreamBucket ?? "{bucket}");
    if (typeof template === "string") {
      problems.push({ path: `buckets.${key}.upstreamBucket`, message: template });
      continue;
    }
    if (glob && !template.placeholder) {
      problems.push({
        path: `buckets.${key}.upstreamBucket`,
        message:
          'needs {bucket} (e.g. "prod-{bucket}"): every name the glob matches would reach the same bucket, which is not reversible',
      });
      continue;
    }
    const upstream = applyBucketTemplate(template, key);
    if (!glob && !BUCKET_NAME.test(upstream)) {
      problems.push({
        path: `buckets.${key}.upstreamBucket`,
        message: `gives ${JSON.stringify(upstream)}, not a valid S3 bucket name (3-63 of a-z 0-9 . -)`,
      });
      continue;
    }
    entries.push({ key, glob, endpoint: bucket.endpoint, template, upstream });
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = 0; j < i; j++) {
      const problem = conflict(entries[j]!, entries[i]!);
      if (problem !== null) problems.push({ path: `buckets.${entries[i]!.key}`, message: problem });
    }
  }
  return problems;
}

/** Why `b` cannot stand beside `a`, or null. */
function conflict(a: Entry, b: Entry): string | null {
  if (a.glob && b.glob && a.key !== "*" && b.key !== "*") {
    const same = globLiteralPrefix(a.key).length === globLiteralPrefix(b.key).length;
    if (same && bucketGlobsOverlap(a.key, b.key)) {
      return `matches names that "${a.key}" matches too, with as long a literal prefix: which one serves them is ambiguous (make one more specific)`;
    }
  }
  if (a.glob || b.glob || a.endpoint !== b.endpoint || a.upstream !== b.upstream) return null;
  return `reaches upstream bucket "${b.upstream}" on endpoint ${b.endpoint}, as "${a.key}" does: the mapping is not reversible`;
}
