/**
 * The config schema: one definition gives both the TypeScript type (`RawConfig`) and the runtime check.
 * Every object is strict: an unknown key is an error (with a suggestion), never silently ignored.
 * Defaults live here (the upstream pool's come from the upstream client) and are documented in
 * deploy/config/osp.example.yaml. Durations are written as users write them (`connectTimeout: 5s`) and come
 * out as milliseconds; the options each package resolves from them carry `…Ms` names.
 */
import { DEFAULT_ORIGIN_OPTIONS as POOL } from "@osp/upstream";
import { z } from "zod";
import { parseDurationMs } from "./duration.js";

/** `10s`, `250ms`, `15m`, or a number of milliseconds → milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === null) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like 250ms, 10s, 15m or 1h, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const port = z.number().int().min(0).max(65535);
const nonEmpty = z.string().min(1, "must not be empty");

const httpUrl = z.string().refine((u) => {
  try {
    const parsed = new URL(u);
    return (
      (parsed.protocol === "http:" || parsed.protocol === "https:") &&
      parsed.search === "" &&
      parsed.hash === ""
    );
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL without query or fragment");

const tls = z.strictObject({ cert: nonEmpty, key: nonEmpty, passphrase: z.string().optional() });

const listen = z.strictObject({
  host: z.string().default("0.0.0.0"),
  port: port.default(6190),
  tls: tls.optional(),
});

const hmacAuth = z.strictObject({
  type: z.literal("hmac"),
  accessKeyId: nonEmpty,
  secretAccessKey: nonEmpty,
  region: z.string().default("us-east-1"),
});

const iamAuth = z.strictObject({
  type: z.literal("iam"),
  apiKey: nonEmpty,
  iamUrl: httpUrl.default("https://iam.cloud.ibm.com/identity/token"),
});

const endpoint = z.strictObject({
  url: httpUrl,
  addressing: z.enum(["path", "virtual"]).default("path"),
  auth: z.discriminatedUnion("type", [hmacAuth, iamAuth]),
  /** PEM file of extra CA certificates for this endpoint; TLS verification is always on. */
  caFile: z.string().optional(),
  /** What to do with flexible checksums (x-amz-checksum-*) after osp verified them: drop or forward. */
  checksums: z.enum(["drop", "forward"]).default("drop"),
  /**
   * `safe`: object keys with `.` or `..` segments are refused (stores that map keys to file paths resolve
   * them). `literal`: the store keeps keys as given (AWS S3, Ceph RGW, IBM COS), so such keys pass.
   */
  keys: z.enum(["safe", "literal"]).default("safe"),
  /**
   * The endpoint's connection pool. The defaults are the upstream client's own (`DEFAULT_ORIGIN_OPTIONS` in
   * packages/upstream/src/origin-options.ts, where they are explained): one set of numbers everywhere.
   */
  pool: z
    .strictObject({
      connections: z.number().int().min(1).max(4096).default(POOL.connections),
      connectTimeout: duration.default(POOL.connectTimeoutMs),
      headersTimeout: duration.default(POOL.headersTimeoutMs),
      /** Longest silence in a response body, and longest wait for the store to take a request body's bytes. */
      bodyTimeout: duration.default(POOL.bodyTimeoutMs),
      keepAliveTimeout: duration.default(POOL.keepAliveTimeoutMs),
      /** Longest wait for a free connection when all are busy (then 503 ServiceUnavailable). */
      queueTimeout: duration.default(POOL.queueTimeoutMs),
      /** Longest a client may read nothing of a response before osp drops it and its upstream connection. */
      pausedTimeout: duration.default(POOL.pausedTimeoutMs),
    })
    .prefault({}),
});

/** A CORS origin or header pattern: S3 allows at most one `*` wildcard in each. */
const corsPattern = z
  .string()
  .regex(/^[^\s,*]*\*?[^\s,*]*$/, "must be one value with at most one * wildcard, no spaces or commas")
  .min(1, "must not be empty");
/** One rule of a bucket's `cors` list, in S3's CORSRule shape (PutBucketCors). */
const corsRule = z.strictObject({
  allowedOrigins: z.array(corsPattern).min(1),
  allowedMethods: z.array(z.enum(["GET", "PUT", "POST", "DELETE", "HEAD"])).min(1),
  /** Headers a preflight may ask for (`Access-Control-Request-Headers`), case-insensitive. */
  allowedHeaders: z.array(corsPattern).default([]),
  /** Response headers scripts may read (`Access-Control-Expose-Headers`), e.g. ETag, x-amz-request-id. */
  exposeHeaders: z
    .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a header name"))
    .default([]),
  /** How long a browser may cache a preflight's answer (`Access-Control-Max-Age`). */
  maxAgeSeconds: z.number().int().min(0).optional(),
});

const bucket = z.strictObject({
  endpoint: nonEmpty,
  /**
   * The bucket's name at the endpoint, when it differs from the name clients use: a name, or a template
   * where `{bucket}` stands for the client's name (`prod-{bucket}`; required on glob keys).
   */
  upstreamBucket: z.string().optional(),
  /** IBM COS service instance id, sent as ibm-service-instance-id on CreateBucket and ListBuckets. */
  instance: z.string().optional(),
  /** CORS rules osp answers browsers with for this bucket (S3's CORSRule shape); absent = no CORS. */
  cors: z.array(corsRule).min(1).optional(),
});

const credential = z.strictObject({
  accessKeyId: z.string().regex(/^[A-Za-z0-9_.-]{3,128}$/, "must be 3-128 characters of A-Z a-z 0-9 _ . -"),
  secretAccessKey: z.string().min(8, "must be at least 8 characters"),
  principal: nonEmpty,
  groups: z.array(nonEmpty).default([]),
});

/** Request facts an authorization hook or webhook receives (and that may key its cached decisions). */
const AUTHZ_FACTS = [
  "principal",
  "groups",
  "accessKeyId",
  "action",
  "operation",
  "bucket",
  "key",
  "listPrefix",
  "method",
  "sourceIp",
  "presigned",
] as const;

const ACTIONS = ["read", "write", "delete", "list", "admin", "*"] as const;

const rule = z.strictObject({
  effect: z.enum(["allow", "deny"]).default("allow"),
  principal: z.string().optional(),
  principals: z.array(nonEmpty).optional(),
  groups: z.array(nonEmpty).optional(),
  buckets: z.array(nonEmpty).min(1),
  prefixes: z.array(z.string()).optional(),
  actions: z.array(z.enum(ACTIONS)).min(1),
});

/** `redis://`, `rediss://`, `redis+sentinel://h:p,h:p/<master>`, `redis+cluster://h:p,h:p`. */
const redisUrl = z
  .string()
  .regex(
    /^(rediss?|redis\+sentinel|redis\+cluster):\/\/[^\s]+$/,
    "must be redis://, rediss://, redis+sentinel://host:port,…/master or redis+cluster://host:port,…",
  );

const redis = z.strictObject({
  url: redisUrl,
  keyPrefix: z.string().default("osp:"),
  /** Longest wait for a connection before Redis counts as down (requests are never held on it). */
  connectTimeout: duration.default(2_000),
  /** Longest wait for one command; past it the cache falls back to L1 and the primary source. */
  commandTimeout: duration.default(500),
});

const cache = z.strictObject({
  /** Entries per worker in the in-process (L1) cache, all kinds together. */
  l1MaxEntries: z.number().int().min(100).default(100_000),
  /**
   * Estimated heap bytes per worker of the L1's entries, all kinds together: the bound that holds when
   * entries are large (docs/operations.md, "Memory"). 16 MiB holds some 40,000 client credentials.
   */
  l1MaxBytes: z
    .number()
    .int()
    .min(65_536)
    .default(16 * 1024 * 1024),
  /** How long an allow decision is cached (L1 and Redis). */
  authzTtl: duration.default(300_000),
  /** How long a deny decision is cached. */
  denyTtl: duration.default(10_000),
  /** How long a resolved client credential (derived signing material) is cached. */
  credentialTtl: duration.default(300_000),
  /** How long an unknown access key is remembered as unknown. */
  negativeTtl: duration.default(10_000),
  /** How long credentials from `upstreamCredentials.hook` are cached (never forever). */
  upstreamCredentialTtl: duration.default(300_000),
  /** How long each endpoint's own bucket listing (asked for ListBuckets) is reused, per worker. */
  listBucketsTtl: duration.default(5_000),
});

const identity = z.strictObject({
  /** JS module exporting `lookupSecret(accessKeyId)` → `{ secretAccessKey, principal, groups? }` | null. */
  hook: z.string().optional(),
  /**
   * Key (32 bytes, base64 or hex) that encrypts client secrets stored in Redis by `osp credentials add`
   * (AES-256-GCM). Required to use Redis-stored credentials; without it the Redis source is off.
   */
  secretsKey: z.string().optional(),
});

const webhook = z.strictObject({
  /** OPA-compatible: POST `{ "input": facts }`, expects `{ "result": true | false | { "allow": bool } }`. */
  url: httpUrl,
  timeout: duration.default(1_000),
  /** Extra request headers (e.g. an Authorization for the policy service). */
  headers: z.record(nonEmpty, z.string()).default({}),
});

const upstreamCredentials = z.strictObject({
  /** JS module exporting `upstreamCredentials(bucket, principal)` → `{ type: "iam", apiKey }` | `{ type: "hmac", … }` | null. */
  hook: z.string(),
  /** Cache per bucket, or per (principal, bucket). */
  scope: z.enum(["bucket", "principal"]).default("bucket"),
});

export const configSchema = z.strictObject({
  listen: listen.prefault({}),
  /** Worker processes: `auto` = available CPUs (`resolveWorkerCount`). */
  workers: z.union([z.literal("auto"), z.number().int().min(1).max(1024)]).default("auto"),
  admin: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: port.default(9090),
      /** When set, every admin request needs `Authorization: Bearer <token>`. */
      token: z.string().min(16, "must be at least 16 characters").optional(),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** How long in-flight requests may run after SIGTERM/SIGINT before the process exits anyway. */
      drainTimeout: duration.default(30_000),
    })
    .prefault({}),
  redis: redis.optional(),
  cache: cache.prefault({}),
  identity: identity.prefault({}),
  upstreamCredentials: upstreamCredentials.optional(),
  presign: z
    .strictObject({
      /** How many times one presigned URL may be used (0 = unlimited); counted in Redis across the cluster. */
      maxUses: z.number().int().min(0).default(0),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Sustained requests per second per access key. */
      requestsPerSecond: z.number().positive().default(100),
      /** Bucket size: requests allowed in a burst. */
      burst: z.number().int().min(1).default(200),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Buckets that get their own `bucket` label; every other bucket is counted as "other". */
      bucketLabels: z.array(nonEmpty).default([]),
    })
    .prefault({}),
  verify: z
    .strictObject({
      /** Where signature checks and signed-payload hashing run: inline, a piscina pool, or auto. */
      mode: z.enum(["inline", "pool", "auto"]).default("auto"),
      /** Pool threads per worker (auto: 0 = decide from the CPU count). */
      threads: z.number().int().min(0).max(64).default(0),
    })
    .prefault({}),
  /** Peers (IPs or CIDRs) whose X-Forwarded-For / Forwarded headers are believed for the source IP. */
  trustedProxies: z.array(nonEmpty).default([]),
  limits: z
    .strictObject({
      maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
      maxKeyBytes: z.number().int().min(1).max(1024).default(1024),
      maxInFlight: z.number().int().min(1).default(4096),
      /** Longest time a whole request may take, body included (0 = no limit). */
      requestTimeout: duration.default(0),
      /** Longest silence on a request body or response before the request is failed. */
      idleTimeout: duration.default(60_000),
      /** Request bodies up to this size are verified whole before the upstream request starts (0 = never). */
      spoolBytes: z
        .number()
        .int()
        .min(0)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
      /** Bytes all spooled bodies of one worker may hold at once; a body that does not fit streams. */
      spoolTotalBytes: z
        .number()
        .int()
        .min(0)
        .max(1024 * 1024 * 1024)
        .default(8 * 1024 * 1024),
    })
    .prefault({}),
  addressing: z
    .strictObject({
      /** `bucket.<domain>` Host headers are virtual-host requests for each domain listed. */
      virtualHostDomains: z.array(nonEmpty).default([]),
      /** A raw `+` in the path means a space, as at AWS S3 (false: a literal +, as at MinIO). */
      plusInPathIsSpace: z.boolean().default(true),
    })
    .prefault({}),
  auth: z
    .strictObject({
      maxSkew: duration.default(900_000),
      /** Regions accepted in credential scopes; empty = any region (IBM COS semantics). */
      regions: z.array(nonEmpty).default([]),
      maxPresignExpiry: duration.default(604_800_000),
      /** Put CanonicalRequest/StringToSign in SignatureDoesNotMatch errors, as S3 does. */
      exposeCanonicalRequest: z.boolean().default(false),
      /** 8192 = reject small aws-chunked chunks as S3 does; 0 = accept any size. */
      minChunkBytes: z.number().int().min(0).default(0),
      /** Accept legacy SigV2 (HMAC-SHA1) headers and presigned URLs; weaker than SigV4, off by default. */
      sigV2: z.boolean().default(false),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      accessLog: z.boolean().default(true),
    })
    .prefault({}),
  endpoints: z.record(nonEmpty, endpoint),
  /** Keys are bucket names or globs (`team-*`, `logs-??`, `"*"`): exact names first, then the longest literal prefix. */
  buckets: z.record(nonEmpty, bucket),
  credentials: z.array(credential).default([]),
  authorization: z
    .strictObject({
      rules: z.array(rule).default([]),
      /** JS module exporting `authorize(facts)` → boolean (sync or async). */
      hook: z.string().optional(),
      webhook: webhook.optional(),
      /** The facts that key a cached hook/webhook decision: list only those your policy reads. */
      cacheKey: z
        .array(z.enum(AUTHZ_FACTS))
        .min(1)
        .default([...AUTHZ_FACTS]),
    })
    .prefault({}),
});

export type RawConfig = z.output<typeof configSchema>;
