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
 * cover every header a preflight asks for; `*` may appear once in an origin or header pattern. Rules are
 * looked up by the `buckets` key of the bucket's route (`Route.key`): its exact key, or the glob that serves
 * it as routing chose it, so a name routing does not serve has none.
 */
import type { Config } from "@osp/config";
import { S3Error } from "@osp/errors";

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

/** `buckets` key (a name or a glob) → its CORS rules; `null` when no key has any (the pipeline checks only that). */
export type CorsPolicies = ReadonlyMap<string, BucketCors> | null;

/** S3 names every header its CORS answers depend on. */
const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

export function compileCors(config: Config): CorsPolicies {
  const policies = new Map<string, BucketCors>();
  for (const [bucket, b] of Object.entries(config.buckets)) {
    if (b.cors === undefined) continue;
    policies.set(bucket, {
      rules: b.cors.map((r) => ({
        origins: r.allowedOrigins.map(compilePattern),
        methods: new Set(r.allowedMethods),
        allowMethods: r.allowedMethods.join(", "),
        headers: r.allowedHeaders.map(compilePattern),
        exposeHeaders: r.exposeHeaders.length === 0 ? null : r.exposeHeaders.join(", "),
        maxAgeSeconds: r.maxAgeSeconds === undefined ? null : String(r.maxAgeSeconds),
      })),
    });
  }
  return policies.size === 0 ? null : policies;
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
