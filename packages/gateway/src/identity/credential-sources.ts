/**
 * Client identities: who an access key belongs to. Sources, asked in this order:
 * 1. the config's `credentials` (in memory, no cache needed);
 * 2. credentials stored in Redis by `osp credentials add` (encrypted; see credential-store.ts);
 * 3. the `identity.hook` module's `lookupSecret(accessKeyId)`.
 * Results of 2 and 3 are cached per access key in each worker's L1 only (`credentialTtl`, unknown keys for
 * `negativeTtl`): secrets never reach the shared cache. `osp credentials remove` invalidates the key on
 * every worker through the cache's pub/sub.
 */
import type { Cache } from "@osp/cache";
import type { Config } from "@osp/config";
import { errorMessage, S3Error } from "@osp/errors";
import type { Logger } from "@osp/log";
import { gatewayNamespaces } from "../cache-namespaces.js";
import { loadHookFunction } from "../load-hook-module.js";
import type { ClientCredential, CredentialSource } from "./credential.js";
import { CredentialStore, parseSecretsKey } from "./credential-store.js";

/** What an `identity.hook` may return: a full record, just the secret (principal = access key), or null. */
type HookResult =
  | { secretAccessKey: string; principal?: string; groups?: readonly string[] }
  | string
  | null
  | undefined;
type LookupSecret = (accessKeyId: string) => HookResult | Promise<HookResult>;

/** The `credentials` section of the config as a credential source. */
export function createConfigCredentials(config: Config): CredentialSource {
  const byKey = new Map<string, ClientCredential>();
  for (const c of config.credentials) {
    byKey.set(c.accessKeyId, freezeCredential(c.accessKeyId, c.secretAccessKey, c.principal, c.groups));
  }
  return { lookup: (accessKeyId) => byKey.get(accessKeyId) ?? null };
}

/** The store of Redis-kept credentials, when `redis` and `identity.secretsKey` are both configured. */
export function createCredentialStore(config: Config, cache: Cache): CredentialStore | null {
  if (cache.mode !== "redis" || config.identity.secretsKey === undefined) return null;
  const namespace = gatewayNamespaces(cache, config).credential;
  return new CredentialStore(cache, parseSecretsKey(config.identity.secretsKey), (accessKeyId) =>
    namespace.invalidate(accessKeyId),
  );
}

/** AWS access key ids have at most 128 characters (IAM's AccessKeyId); so do the keys the config takes. */
const MAX_ACCESS_KEY_ID_LENGTH = 128;

/** Every configured source behind one `lookup`, with the cache in front of the dynamic ones. */
export async function createCredentialSource(
  config: Config,
  cache: Cache,
  log: Logger,
): Promise<CredentialSource> {
  const fromConfig = createConfigCredentials(config);
  const store = createCredentialStore(config, cache);
  const hook =
    config.identity.hook === undefined
      ? null
      : (await loadHookFunction<LookupSecret>(config.identity.hook, "lookupSecret", config.source)).fn;
  if (store === null && hook === null) return fromConfig;
  const namespace = gatewayNamespaces(cache, config).credential;

  const fill = async (accessKeyId: string): Promise<{ value: ClientCredential | null }> => {
    if (store !== null) {
      let stored: Awaited<ReturnType<CredentialStore["lookup"]>>;
      try {
        stored = await store.lookup(accessKeyId);
      } catch (err) {
        // Redis is down and the key is not cached here: a retryable answer, not "unknown key".
        log.warn({ err: errorMessage(err), accessKeyId }, "credential store unavailable");
        if (hook === null) throw unavailable("The credential store is unavailable.");
        stored = null;
      }
      if (stored !== null) {
        return {
          value: freezeCredential(accessKeyId, stored.secretAccessKey, stored.principal, stored.groups),
        };
      }
    }
    if (hook === null) return { value: null };
    let result: HookResult;
    try {
      result = await hook(accessKeyId);
    } catch (err) {
      log.error({ err: errorMessage(err), accessKeyId }, "identity hook failed");
      throw unavailable("The identity lookup failed.");
    }
    return { value: hookCredential(accessKeyId, result, log) };
  };

  return {
    lookup(accessKeyId) {
      const configured = fromConfig.lookup(accessKeyId) as ClientCredential | null;
      if (configured !== null) return configured;
      // Longer than any key AWS issues or `osp credentials add` stores: unknown without asking a source or
      // taking room in the cache, so a flood of long made-up keys cannot push real credentials out of it.
      if (accessKeyId.length > MAX_ACCESS_KEY_ID_LENGTH) return null;
      const cached = namespace.peek(accessKeyId);
      if (cached !== undefined) return cached;
      // The cache keeps the key it is given: its own copy, not a slice of this request's header.
      const key = ownCopy(accessKeyId);
      return namespace.get(key, () => fill(key));
    },
  };
}

function hookCredential(accessKeyId: string, result: HookResult, log: Logger): ClientCredential | null {
  if (result === null || result === undefined) return null;
  if (typeof result === "string") {
    return result.length > 0 ? freezeCredential(accessKeyId, result, accessKeyId, []) : null;
  }
  if (
    typeof result !== "object" ||
    typeof result.secretAccessKey !== "string" ||
    result.secretAccessKey === ""
  ) {
    log.error(
      { accessKeyId },
      "identity hook returned neither null, a secret string nor { secretAccessKey }",
    );
    throw unavailable("The identity lookup failed.");
  }
  const groups = Array.isArray(result.groups) ? result.groups.filter((g) => typeof g === "string") : [];
  return freezeCredential(accessKeyId, result.secretAccessKey, result.principal ?? accessKeyId, groups);
}

/**
 * A cached credential, holding strings of its own: the key id is already the lookup's copy; a hook's secret
 * or principal may be built from larger strings (`ownCopy`).
 */
function freezeCredential(
  accessKeyId: string,
  secretAccessKey: string,
  principal: string,
  groups: readonly string[],
): ClientCredential {
  return Object.freeze({
    accessKeyId,
    secretAccessKey: ownCopy(secretAccessKey),
    principal: Object.freeze({
      name: principal === accessKeyId ? accessKeyId : ownCopy(principal),
      groups: Object.freeze(groups.map(ownCopy)),
    }),
  });
}

/**
 * The same characters in a flat string of their own. A key id parsed from a request is a slice of the
 * Authorization header (or query) that V8 keeps whole while the slice lives; a cache entry keyed by it would
 * hold some 300 bytes of request. Slicing a copy is no better: V8 makes any slice of 13 characters or more a
 * view (a 32-byte header plus the string it points into). Parsing JSON builds a new sequential string, the
 * smallest form (~0.2 µs, on a cache miss only; exact for every string, lone surrogates included).
 */
function ownCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

function unavailable(message: string): S3Error {
  return new S3Error("ServiceUnavailable", message, { source: "internal" });
}
