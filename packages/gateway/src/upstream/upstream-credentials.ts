/**
 * Which credentials osp uses toward a bucket's endpoint: the endpoint's own from the config, or what
 * the `upstreamCredentials.hook` module's `upstreamCredentials(bucket, principal)` returns (the old
 * `bucket_creds_fetcher`): `{ type: "iam", apiKey, iamUrl? }`, `{ type: "hmac", accessKeyId,
 * secretAccessKey, region? }`, or null for the endpoint's own. Hook results are cached per bucket, or per
 * (principal, bucket) with `scope: principal`, in each worker's L1 only (they are secrets), for
 * `cache.upstreamCredentialTtl`: never forever. IAM token sources are shared per (IAM URL, API key)
 * (iam-tokens.ts).
 */
import type { Cache } from "@osp/cache";
import type { Config } from "@osp/config";
import { errorMessage, S3Error } from "@osp/errors";
import type { Logger } from "@osp/log";
import { gatewayNamespaces } from "../cache-namespaces.js";
import { loadHookFunction } from "../load-hook-module.js";
import type { Route } from "../routing/routes.js";
import type { IamTokensFor } from "./iam-tokens.js";
import type { UpstreamAuth } from "./sign-upstream.js";

type HookResult =
  | { type: "iam"; apiKey: string; iamUrl?: string }
  | { type: "hmac"; accessKeyId: string; secretAccessKey: string; region?: string }
  | null
  | undefined;
type UpstreamCredentialsHook = (bucket: string, principal: string) => HookResult | Promise<HookResult>;

const DEFAULT_IAM_URL = "https://iam.cloud.ibm.com/identity/token";
/** `route.endpoint.auth`, or the hook's answer for (bucket, principal); sync when no hook or cached. */
export type UpstreamAuthResolver = (route: Route, principal: string) => UpstreamAuth | Promise<UpstreamAuth>;

export async function createUpstreamAuthResolver(
  config: Config,
  cache: Cache,
  iamTokensFor: IamTokensFor,
  log: Logger,
): Promise<UpstreamAuthResolver> {
  const settings = config.upstreamCredentials;
  if (settings === undefined) return (route) => route.endpoint.auth;
  const { fn } = await loadHookFunction<UpstreamCredentialsHook>(
    settings.hook,
    "upstreamCredentials",
    config.source,
  );
  const namespace = gatewayNamespaces(cache, config).upstreamCredential;
  const byPrincipal = settings.scope === "principal";
  return (route, principal) => {
    const key = byPrincipal ? `${principal}\n${route.bucket}` : route.bucket;
    const cached = namespace.peek(key);
    if (cached !== undefined) return cached ?? route.endpoint.auth;
    return namespace
      .get(key, async () => {
        let result: HookResult;
        try {
          result = await fn(route.bucket, principal);
        } catch (err) {
          log.error({ err: errorMessage(err), bucket: route.bucket }, "upstream credentials hook threw");
          throw new S3Error("ServiceUnavailable", "Upstream credentials are unavailable.", {
            source: "internal",
          });
        }
        return { value: toUpstreamAuth(result, iamTokensFor, route, log) };
      })
      .then((auth) => auth ?? route.endpoint.auth);
  };
}

function toUpstreamAuth(
  result: HookResult,
  iamTokensFor: IamTokensFor,
  route: Route,
  log: Logger,
): UpstreamAuth | null {
  if (result === null || result === undefined) return null;
  if (result.type === "iam" && typeof result.apiKey === "string" && result.apiKey !== "") {
    return { type: "iam", tokens: iamTokensFor(result.iamUrl ?? DEFAULT_IAM_URL, result.apiKey) };
  }
  if (
    result.type === "hmac" &&
    typeof result.accessKeyId === "string" &&
    typeof result.secretAccessKey === "string" &&
    result.accessKeyId !== "" &&
    result.secretAccessKey !== ""
  ) {
    const region =
      result.region ?? (route.endpoint.auth.type === "hmac" ? route.endpoint.auth.region : "us-east-1");
    return { type: "hmac", accessKeyId: result.accessKeyId, secretAccessKey: result.secretAccessKey, region };
  }
  log.error({ bucket: route.bucket }, "upstream credentials hook returned an unusable value");
  throw new S3Error("ServiceUnavailable", "Upstream credentials are unavailable.", { source: "internal" });
}
