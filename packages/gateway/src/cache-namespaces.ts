/**
 * The gateway's cache namespaces in one place (key layout in the README): each created once per Cache
 * (a worker's cores share the cache across config reloads), with the TTLs of the config that created it.
 *
 * | namespace           | key                                  | tiers      | value                        |
 * | credential          | access key id                        | L1 only    | client credential (secret)   |
 * | authz               | sha256(authorization.cacheKey facts) | L1 + Redis | allow / deny                 |
 * | iam                 | sha256(IAM URL, API key)             | L1 + Redis | bearer token + expiry (lock) |
 * | upstream-credential | bucket, or principal + bucket        | L1 only    | upstream keys (secret)       |
 */
import type { Cache, CacheNamespace } from "@osp/cache";
import type { Config } from "@osp/config";
import { errorMessage } from "@osp/errors";
import type { Logger } from "@osp/log";
import type { IamToken } from "@osp/upstream";
import type { ClientCredential } from "./identity/credential.js";
import type { UpstreamAuth } from "./upstream/sign-upstream.js";

export interface GatewayNamespaces {
  readonly credential: CacheNamespace<ClientCredential>;
  readonly authz: CacheNamespace<boolean>;
  readonly iam: CacheNamespace<IamToken>;
  readonly upstreamCredential: CacheNamespace<UpstreamAuth>;
}

const byCache = new WeakMap<Cache, { namespaces: GatewayNamespaces; policy: string }>();

/** The sections whose change makes cached decisions and looked-up identities stale. */
function policyOf(config: Config): string {
  return JSON.stringify([config.authorization, config.identity, config.upstreamCredentials ?? null]);
}

/**
 * Called by each gateway core before it builds its sources. A config reload keeps the cache (and its TTLs)
 * but, when the policy sections changed, drops cached decisions and looked-up identities everywhere: they
 * were made under the old policy. IAM tokens stay valid across reloads.
 */
export function dropStalePolicyEntries(cache: Cache, config: Config, log: Pick<Logger, "error">): void {
  const known = byCache.get(cache);
  const policy = policyOf(config);
  if (known === undefined || known.policy === policy) return;
  known.policy = policy;
  const { authz, credential, upstreamCredential } = known.namespaces;
  for (const ns of [authz, credential, upstreamCredential]) {
    // Redis being unreachable does not reject (the cache logs that: invalidationLost in
    // packages/cache/src/create-cache.ts); anything else would be a bug, logged here.
    ns.invalidateAll().catch((err: unknown) => {
      log.error({ err: errorMessage(err), namespace: ns.name }, "dropping stale cache entries failed");
    });
  }
}

/**
 * The namespaces of `cache`, created on first use with the TTLs of `config`. Whoever builds sources on a
 * cache that a core of another config used calls `dropStalePolicyEntries` first (GatewayServices does).
 */
export function gatewayNamespaces(cache: Cache, config: Config): GatewayNamespaces {
  const known = byCache.get(cache);
  if (known !== undefined) return known.namespaces;
  const namespaces: GatewayNamespaces = {
    credential: cache.namespace<ClientCredential>("credential", {
      ttlMs: config.cache.credentialTtl,
      negativeTtlMs: config.cache.negativeTtl,
      shared: false,
    }),
    authz: cache.namespace<boolean>("authz", {
      ttlMs: config.cache.authzTtl,
      negativeTtlMs: config.cache.denyTtl,
      shared: true,
    }),
    // TTLs come from each token (Fill.ttlMs); these bound an entry that somehow carries none.
    iam: cache.namespace<IamToken>("iam", {
      ttlMs: 3_600_000,
      negativeTtlMs: 1_000,
      shared: true,
      lockFill: true,
    }),
    upstreamCredential: cache.namespace<UpstreamAuth>("upstream-credential", {
      ttlMs: config.cache.upstreamCredentialTtl,
      negativeTtlMs: config.cache.upstreamCredentialTtl,
      shared: false,
    }),
  };
  byCache.set(cache, { namespaces, policy: policyOf(config) });
  return namespaces;
}
