/**
 * Bucket → upstream route, resolved once at startup from the config: the endpoint's origin, how it is
 * addressed, the bucket's name there and how osp authenticates to it. Endpoints come only from the
 * config, so no request can steer the gateway to a host of its choosing (DESIGN.md phase 4).
 */
import type { Config } from "@osp/config";
import type { IamTokens } from "./iam-tokens.js";

export type UpstreamAuth =
  | {
      readonly type: "hmac";
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly region: string;
    }
  | { readonly type: "iam"; readonly tokens: IamTokens };

export interface Endpoint {
  readonly name: string;
  /** `scheme://host[:port]`, the undici pool key. */
  readonly origin: string;
  /** `host[:port]` as the Host header carries it (default ports omitted). */
  readonly host: string;
  readonly https: boolean;
  readonly addressing: "path" | "virtual";
  readonly auth: UpstreamAuth;
  readonly checksums: "drop" | "forward";
  /** Whether keys with `.`/`..` segments are refused (`safe`) or kept as given (`literal`). */
  readonly keys: "safe" | "literal";
}

export interface Route {
  readonly bucket: string;
  readonly upstreamBucket: string;
  readonly instance: string | null;
  readonly endpoint: Endpoint;
}

export interface Routes {
  readonly byBucket: ReadonlyMap<string, Route>;
  readonly endpoints: ReadonlyMap<string, Endpoint>;
}

/** Builds every route; `iamTokensFor` gives the (shared) token source of one (iamUrl, apiKey). */
export function compileRoutes(
  config: Config,
  iamTokensFor: (iamUrl: string, apiKey: string) => IamTokens,
): Routes {
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
    endpoints.set(name, {
      name,
      origin: url.origin,
      host: url.host,
      https: url.protocol === "https:",
      addressing: e.addressing,
      auth,
      checksums: e.checksums,
      keys: e.keys,
    });
  }
  const byBucket = new Map<string, Route>();
  for (const [bucket, b] of Object.entries(config.buckets)) {
    const endpoint = endpoints.get(b.endpoint);
    if (endpoint === undefined) throw new Error(`bucket ${bucket}: unknown endpoint ${b.endpoint}`); // config checked this
    byBucket.set(bucket, {
      bucket,
      upstreamBucket: b.upstreamBucket ?? bucket,
      instance: b.instance ?? null,
      endpoint,
    });
  }
  return { byBucket, endpoints };
}
