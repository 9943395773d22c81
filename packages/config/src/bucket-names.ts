/**
 * Bucket keys and upstream names of the `buckets` section: a key is an exact name, a glob
 * (`*` any run of characters, `?` one character; `"*"` alone is the default) or both; `upstreamBucket` is a
 * name or a template with one `{bucket}` (the client's name). Shared by the config check (which refuses
 * ambiguous and irreversible mappings) and the gateway's route lookup, so both read keys the same way.
 * Every function here is linear or quadratic in names of at most 63 characters: no regex backtracking.
 */

/** The placeholder a template puts the client's bucket name in. */
export const BUCKET_PLACEHOLDER = "{bucket}";

/** Whether a `buckets` key is a glob rather than an exact name. */
export function isBucketGlob(key: string): boolean {
  return key.includes("*") || key.includes("?");
}

/** The literal characters before a glob's first wildcard: the more of them, the more specific the key. */
export function globLiteralPrefix(glob: string): string {
  let i = 0;
  while (i < glob.length && glob[i] !== "*" && glob[i] !== "?") i++;
  return glob.slice(0, i);
}

/**
 * Whether `name` matches `glob`. The classic two-pointer match that, on a mismatch, only moves the last `*`
 * one character on: O(name × glob) at worst, never exponential.
 */
export function matchBucketGlob(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = glob[g];
    if (c === "?" || (c !== undefined && c !== "*" && c === name[n])) {
      g++;
      n++;
    } else if (c === "*") {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else return false;
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}

/**
 * Whether some name matches both globs (exact names are globs without wildcards). A walk over the pairs of
 * positions of the two patterns (at most 64 × 64 for bucket names), each visited once.
 */
export function bucketGlobsOverlap(a: string, b: string): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number): void => {
    const at = i * width + j;
    if (seen[at] === 0) {
      seen[at] = 1;
      stack.push(at);
    }
  };
  while (stack.length > 0) {
    const at = stack.pop()!;
    const i = Math.floor(at / width);
    const j = at % width;
    if (i === a.length && j === b.length) return true;
    const ca = a[i];
    const cb = b[j];
    // A `*` may match nothing.
    if (ca === "*") visit(i + 1, j);
    if (cb === "*") visit(i, j + 1);
    // Both consume one character they can agree on.
    if (ca === undefined || cb === undefined) continue;
    const wildA = ca === "*" || ca === "?";
    const wildB = cb === "*" || cb === "?";
    if (!wildA && !wildB && ca !== cb) continue;
    visit(ca === "*" ? i : i + 1, cb === "*" ? j : j + 1);
  }
  return false;
}

/** A parsed `upstreamBucket`: `prefix{bucket}suffix`, or a fixed name (`placeholder` false). */
export interface BucketTemplate {
  readonly prefix: string;
  readonly suffix: string;
  /** Whether the template holds `{bucket}`; when not, `prefix` is the whole name. */
  readonly placeholder: boolean;
}

/** Parses an `upstreamBucket` value; a string saying what is wrong when it is not a usable template. */
export function parseBucketTemplate(value: string): BucketTemplate | string {
  const at = value.indexOf(BUCKET_PLACEHOLDER);
  const prefix = at < 0 ? value : value.slice(0, at);
  const suffix = at < 0 ? "" : value.slice(at + BUCKET_PLACEHOLDER.length);
  if (suffix.includes(BUCKET_PLACEHOLDER))
    return "may hold {bucket} once (else the mapping is not reversible)";
  for (const part of [prefix, suffix]) {
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
      if (!ok) return `holds ${JSON.stringify(part[i])}: only a-z 0-9 . - and one {bucket} are allowed`;
    }
  }
  if (at < 0 && value.length === 0) return "must not be empty";
  return { prefix, suffix, placeholder: at >= 0 };
}

/** The upstream name of client name `bucket` under `template`. */
export function applyBucketTemplate(template: BucketTemplate, bucket: string): string {
  return template.placeholder ? template.prefix + bucket + template.suffix : template.prefix;
}

/**
 * The client name `template` maps to `upstream`, or null when it maps none there. Only for templates with
 * `{bucket}`: those are the reversible ones.
 */
export function reverseBucketTemplate(template: BucketTemplate, upstream: string): string | null {
  const { prefix, suffix } = template;
  if (upstream.length <= prefix.length + suffix.length) return null;
  if (!upstream.startsWith(prefix) || !upstream.endsWith(suffix)) return null;
  return upstream.slice(prefix.length, upstream.length - suffix.length);
}
