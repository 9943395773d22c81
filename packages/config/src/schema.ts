/**
 * The config schema: one definition gives both the TypeScript type (`RawConfig`) and the runtime check.
 * Every object is strict: an unknown key is an error (with a suggestion), never silently ignored.
 * Defaults live here and are documented in deploy/config/osp.example.yaml.
 */
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
  pool: z
    .strictObject({
      connections: z.number().int().min(1).max(4096).default(128),
      connectTimeout: duration.default(5_000),
      headersTimeout: duration.default(30_000),
      bodyTimeout: duration.default(30_000),
      keepAliveTimeout: duration.default(4_000),
    })
    .prefault({}),
});

const bucket = z.strictObject({
  endpoint: nonEmpty,
  /** The bucket's name at the endpoint, when it differs from the name clients use. */
  upstreamBucket: z.string().optional(),
  /** IBM COS service instance id, sent as ibm-service-instance-id on CreateBucket and ListBuckets. */
  instance: z.string().optional(),
});

const credential = z.strictObject({
  accessKeyId: z.string().regex(/^[A-Za-z0-9_.-]{3,128}$/, "must be 3-128 characters of A-Z a-z 0-9 _ . -"),
  secretAccessKey: z.string().min(8, "must be at least 8 characters"),
  principal: nonEmpty,
  groups: z.array(nonEmpty).default([]),
});

export const ACTIONS = ["read", "write", "delete", "list", "admin", "*"] as const;

const rule = z.strictObject({
  effect: z.enum(["allow", "deny"]).default("allow"),
  principal: z.string().optional(),
  principals: z.array(nonEmpty).optional(),
  groups: z.array(nonEmpty).optional(),
  buckets: z.array(nonEmpty).min(1),
  prefixes: z.array(z.string()).optional(),
  actions: z.array(z.enum(ACTIONS)).min(1),
});

export const configSchema = z.strictObject({
  listen: listen.prefault({}),
  limits: z
    .strictObject({
      maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
      maxKeyBytes: z.number().int().min(1).max(1024).default(1024),
      maxInFlight: z.number().int().min(1).default(4096),
      /** Longest time a whole request may take, body included (0 = no limit). */
      requestTimeout: duration.default(0),
      /** Longest silence on a request body or response before the request is failed. */
      idleTimeout: duration.default(60_000),
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
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      accessLog: z.boolean().default(true),
    })
    .prefault({}),
  endpoints: z.record(nonEmpty, endpoint),
  buckets: z.record(nonEmpty, bucket),
  credentials: z.array(credential).default([]),
  authorization: z.strictObject({ rules: z.array(rule).default([]) }).prefault({}),
});

export type RawConfig = z.output<typeof configSchema>;
