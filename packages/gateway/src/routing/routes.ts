/**
 * Bucket → upstream route, compiled once at startup from the config: the endpoint's origin, how it is
 * addressed, the bucket's name there and how osp authenticates to it. Exact keys are a map; glob keys a
 * list tried in order of specificity (bucket-patterns.ts resolves names against both). Endpoints come
 * only from the config, so no request can steer the gateway to a host of its choosing (docs/architecture.md
 * "Resolve upstream").
 */
import {
  applyBucketTemplate,
  BUCKET_PLACEHOLDER,
  type BucketTemplate,
  type Config,
  globLiteralPrefix,
  isBucketGlob,
  parseBucketTemplate,
} from "@osp/config";
import type { UpstreamEndpoint } from "@osp/s3";
import type { IamTokensFor } from "../upstream/iam-tokens.js";
import type { UpstreamAuth } from "../upstream/sign-upstream.js";

export interface Endpoint {
  readonly name: string;
  /** `scheme://host[:port]`, the upstream pool key. */
  readonly origin: string;
  /** `host[:port]` as the Host header carries it (default ports omitted). */
  readonly host: string;
  readonly https: boolean;
  readonly addressing: "path" | "virtual";
  /** The three facts above as `buildUpstreamTarget` (@osp/s3) takes them: one object for every request. */
  readonly target: UpstreamEndpoint;
  readonly auth: UpstreamAuth;
  readonly checksums: "drop" | "forward";
  /** Whether keys with `.`/`..` segments are refused (`safe`) or kept as given (`literal`). */
  readonly keys: "safe" | "literal";
}

export interface Route {
  /** The name the client uses. */
  readonly bucket: string;
  /** The `buckets` key that serves it: the name itself, or the glob that matched (its `cors` rules apply). */
  readonly key: string;
  readonly upstreamBucket: string;
  readonly instance: string | null;
  readonly endpoint: Endpoint;
}

/** A glob key of `buckets`, compiled once (bucket-patterns.ts). */
export interface BucketPattern {
  readonly glob: string;
  readonly template: BucketTemplate;
  readonly instance: string | null;
  readonly endpoint: Endpoint;
}

export interface Routes {
  /** The exact keys of `buckets`. */
  readonly byBucket: ReadonlyMap<string, Route>;
  /** The glob keys, most specific first (the longest literal prefix; `"*"` last). */
  readonly patterns: readonly BucketPattern[];
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  /** Every (endpoint name, upstream name) of an exact key → that route: the exact key wins over globs. */
  readonly byUpstream: ReadonlyMap<string, Route>;
}

/** Builds every route; `iamTokensFor` gives the (shared) token source of one (iamUrl, apiKey). */
export function compileRoutes(config: Config, iamTokensFor: IamTokensFor): Routes {
  const endpoints = new Map<string, Endpoint>();
  for (const [name, e] of Object.entries(config.endpoints)) {
    const url = new URL(e.url);
    let auth: UpstreamAuth;
    if (e.auth.type === "hmac") {
      auth = {
        type: "hmac",
        accessKeyId: e.auth.accessKeyId,
        secretAccessKey: e.auth.secretAccessKey,
        region: e.auth.region,
      };
    } else {
      auth = { type: "iam", tokens: iamTokensFor(e.auth.iamUrl, e.auth.apiKey) };
    }
    const https = url.protocol === "https:";
    endpoints.set(name, {
      name,
      origin: url.origin,
      host: url.host,
      https,
      addressing: e.addressing,
      target: { addressing: e.addressing, host: url.host, tls: https },
      auth,
      checksums: e.checksums,
      keys: e.keys,
    });
  }
  const byBucket = new Map<string, Route>();
  const byUpstream = new Map<string, Route>();
  const patterns: BucketPattern[] = [];
  for (const [bucket, b] of Object.entries(config.buckets)) {
    const endpoint = endpoints.get(b.endpoint);
    if (endpoint === undefined) throw new Error(`bucket ${bucket}: unknown endpoint ${b.endpoint}`); // config checked this
    const template = parseBucketTemplate(b.upstreamBucket ?? BUCKET_PLACEHOLDER);
    if (typeof template === "string") throw new Error(`bucket ${bucket}: ${template}`); // config checked this
    const instance = b.instance ?? null;
    if (isBucketGlob(bucket)) {
      patterns.push({ glob: bucket, template, instance, endpoint });
      continue;
    }
    const route = {
      bucket,
      key: bucket,
      upstreamBucket: applyBucketTemplate(template, bucket),
      instance,
      endpoint,
    };
    byBucket.set(bucket, route);
    byUpstream.set(upstreamKey(endpoint, route.upstreamBucket), route);
  }
  patterns.sort((a, b) => specificity(b.glob) - specificity(a.glob));
  return { byBucket, patterns, endpoints, byUpstream };
}

/** The longer a glob's literal prefix, the more specific; the `"*"` default comes after every other glob. */
function specificity(glob: string): number {
  return glob === "*" ? -1 : globLiteralPrefix(glob).length;
}

export function upstreamKey(endpoint: Endpoint, upstreamBucket: string): string {
  return `${endpoint.name}/${upstreamBucket}`;
}
