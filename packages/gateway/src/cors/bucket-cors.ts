/**
 * CORS for browsers, from each bucket's `cors` rules in osp's config (S3's CORSRule shape), not
 * from the store's bucket CORS configuration: the answer is predictable, costs no upstream round trip, and
 * nobody with rights at the store can widen it behind the operator's back. For a bucket with rules, osp
 * answers every OPTIONS itself, without authentication (a preflight carries no credentials and changes
 * nothing; none of it reaches the store), and adds CORS headers to the actual response, its own error
 * responses included, when the request's Origin matches a rule. The store's own CORS headers are dropped for
 * such a bucket, so the answer is osp's alone. Rules are evaluated as S3 does
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html): the first rule whose origins hold the
 * Origin, whose methods hold the method (a preflight's Access-Control-Request-Method) and whose headers
 * cover every header a preflight asks for; `*` may appear once in an origin or header pattern. A bucket
 * has the rules of the `buckets` key that serves it: its exact key, else the most specific glob matching it
 * (routing/bucket-patterns.ts picks keys the same way), so an exact key without rules has none.
 */
import { type Config, isBucketGlob, matchBucketGlob } from "@osp/config";
import { S3Error } from "@osp/errors";
import { globSpecificity } from "../routing/routes.js";

/** A pattern with at most one `*`: `exact` when it has none. Lower-case. */
interface Pattern {
  readonly exact: string | null;
  readonly prefix: string;
  readonly suffix: string;
}

interface CompiledCorsRule {
  readonly origins: readonly Pattern[];
  readonly methods: ReadonlySet<string>;
  /** `Access-Control-Allow-Methods` of a preflight's answer. */
  readonly allowMethods: string;
  readonly headers: readonly Pattern[];
  readonly exposeHeaders: string | null;
  readonly maxAgeSeconds: string | null;
}

/** The compiled `cors` rules of one bucket. */
export interface BucketCors {
  readonly rules: readonly CompiledCorsRule[];
}

/** The CORS rules of each client bucket name; `null` when no bucket has any (the pipeline checks only that). */
export type CorsPolicies = BucketCorsRules | null;

export class BucketCorsRules {
  /** Every exact key of `buckets`, with its rules or null. */
  readonly #exact: ReadonlyMap<string, BucketCors | null>;
  /** Every glob key, most specific first, with its rules or null. */
  readonly #globs: ReadonlyArray<{ readonly glob: string; readonly cors: BucketCors | null }>;

  constructor(
    exact: ReadonlyMap<string, BucketCors | null>,
    globs: ReadonlyArray<{ readonly glob: string; readonly cors: BucketCors | null }>,
  ) {
    this.#exact = exact;
    this.#globs = globs;
  }

  /** The rules of the key that serves `bucket`, undefined when that key has none or no key matches. */
  get(bucket: string): BucketCors | undefined {
    const exact = this.#exact.get(bucket);
    if (exact !== undefined) return exact ?? undefined;
    for (const { glob, cors } of this.#globs) if (matchBucketGlob(glob, bucket)) return cors ?? undefined;
    return undefined;
  }
}

/** S3 names every header its CORS answers depend on. */
const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

export function compileCors(config: Config): CorsPolicies {
  const exact = new Map<string, BucketCors | null>();
  const globs: Array<{ glob: string; cors: BucketCors | null }> = [];
  let any = false;
  for (const [bucket, b] of Object.entries(config.buckets)) {
    const cors = b.cors === undefined ? null : compileBucketCors(b.cors);
    any ||= cors !== null;
    if (isBucketGlob(bucket)) globs.push({ glob: bucket, cors });
    else exact.set(bucket, cors);
  }
  globs.sort((a, b) => globSpecificity(b.glob) - globSpecificity(a.glob));
  return any ? new BucketCorsRules(exact, globs) : null;
}

type CorsRuleConfig = NonNullable<Config["buckets"][string]["cors"]>;

function compileBucketCors(rules: CorsRuleConfig): BucketCors {
  return {
    rules: rules.map((r) => ({
      origins: r.allowedOrigins.map(compilePattern),
      methods: new Set(r.allowedMethods),
      allowMethods: r.allowedMethods.join(", "),
      headers: r.allowedHeaders.map(compilePattern),
      exposeHeaders: r.exposeHeaders.length === 0 ? null : r.exposeHeaders.join(", "),
      maxAgeSeconds: r.maxAgeSeconds === undefined ? null : String(r.maxAgeSeconds),
    })),
  };
}

/**
 * Answers an OPTIONS request to a bucket with CORS rules: the preflight's response headers (status 200, no
 * body), or the S3 error to answer with: 400 without Origin or Access-Control-Request-Method, 403
 * AccessForbidden when no rule allows the origin, method and headers asked for.
 */
export function answerPreflight(
  cors: BucketCors,
  headers: ReadonlyArray<readonly [string, string]>,
  objectLevel: boolean,
): Array<[string, string]> | S3Error {
  let origin: string | null = null;
  let method: string | null = null;
  let requested: string | null = null;
  for (const [name, value] of headers) {
    if (name === "origin") origin ??= value;
    else if (name === "access-control-request-method") method ??= value;
    else if (name === "access-control-request-headers")
      requested = requested === null ? value : `${requested},${value}`;
  }
  if (origin === null) {
    return new S3Error("InvalidRequest", "Insufficient information. Origin request header needed.");
  }
  if (method === null) return new S3Error("InvalidRequest", "Invalid Access-Control-Request-Method: null");
  const asked =
    requested === null
      ? []
      : requested
          .split(",")
          .map((h) => h.trim().toLowerCase())
          .filter((h) => h !== "");
  const lowerOrigin = origin.toLowerCase();
  for (const rule of cors.rules) {
    const matched = matchingPattern(rule.origins, lowerOrigin);
    if (matched === null || !rule.methods.has(method)) continue;
    if (!asked.every((h) => matchingPattern(rule.headers, h) !== null)) continue;
    const out = allowOrigin(matched, origin);
    out.push(["access-control-allow-methods", rule.allowMethods]);
    if (asked.length > 0) out.push(["access-control-allow-headers", asked.join(", ")]);
    if (rule.exposeHeaders !== null) out.push(["access-control-expose-headers", rule.exposeHeaders]);
    if (rule.maxAgeSeconds !== null) out.push(["access-control-max-age", rule.maxAgeSeconds]);
    out.push(["vary", VARY]);
    return out;
  }
  return new S3Error("AccessForbidden", undefined, {
    fields: [
      ["Method", method],
      ["ResourceType", objectLevel ? "OBJECT" : "BUCKET"],
    ],
  });
}

/**
 * The CORS headers of an actual (non-OPTIONS) response: `null` when the request has no Origin (most requests:
 * one pass over the header names) or no rule allows its origin and method.
 */
export function corsResponseHeaders(
  cors: BucketCors,
  method: string,
  headers: ReadonlyArray<readonly [string, string]>,
): Array<[string, string]> | null {
  let origin: string | null = null;
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    if (header[0] === "origin") {
      origin = header[1];
      break;
    }
  }
  if (origin === null) return null;
  const lowerOrigin = origin.toLowerCase();
  for (const rule of cors.rules) {
    const matched = matchingPattern(rule.origins, lowerOrigin);
    if (matched === null || !rule.methods.has(method)) continue;
    const out = allowOrigin(matched, origin);
    if (rule.exposeHeaders !== null) out.push(["access-control-expose-headers", rule.exposeHeaders]);
    out.push(["vary", VARY]);
    return out;
  }
  return null;
}

/** The store's own CORS headers (and the Vary that goes with them), dropped for a bucket osp answers CORS for. */
export function withoutCorsHeaders(
  headers: ReadonlyArray<readonly [string, string]>,
): ReadonlyArray<readonly [string, string]> {
  // Indexed loops, no closure: this runs for every response of such a bucket (bench/micro/cors.ts).
  for (let i = 0; i < headers.length; i++) {
    if (isCorsHeader(headers[i]![0])) return headers.filter((h) => !isCorsHeader(h[0]));
  }
  return headers;
}

function isCorsHeader(name: string): boolean {
  return name === "vary" || (name.charCodeAt(0) === 97 && name.startsWith("access-control-"));
}

/** As S3: `*` for a rule allowing any origin; else the origin itself, with credentials allowed. */
function allowOrigin(matched: Pattern, origin: string): Array<[string, string]> {
  if (matched.exact === null && matched.prefix === "" && matched.suffix === "") {
    return [["access-control-allow-origin", "*"]];
  }
  return [
    ["access-control-allow-origin", origin],
    ["access-control-allow-credentials", "true"],
  ];
}

function compilePattern(text: string): Pattern {
  const lower = text.toLowerCase();
  const star = lower.indexOf("*");
  if (star < 0) return { exact: lower, prefix: "", suffix: "" };
  return { exact: null, prefix: lower.slice(0, star), suffix: lower.slice(star + 1) };
}

function matchingPattern(patterns: readonly Pattern[], value: string): Pattern | null {
  for (const p of patterns) {
    if (p.exact !== null) {
      if (value === p.exact) return p;
    } else if (
      value.length >= p.prefix.length + p.suffix.length &&
      value.startsWith(p.prefix) &&
      value.endsWith(p.suffix)
    ) {
      return p;
    }
  }
  return null;
}
