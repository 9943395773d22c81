/**
 * IBM IAM bearer tokens shared by every worker on every host (docs/architecture.md "Budgets": one token
 * request per API key per refresh period for the whole cluster). The token lives in the cache's `iam`
 * namespace (L1 + Redis) under a hash of (IAM URL, API key); a fill takes the cluster-wide lock, so one
 * process asks IAM and the others read its result. Past 80 % of the token's life the cache refills in the
 * background while the current token keeps serving. `IamTokenProvider` does the HTTP and the backoff on
 * 429/5xx.
 */
import { createHash } from "node:crypto";
import type { CacheNamespace } from "@osp/cache";
import { errorMessage, S3Error } from "@osp/errors";
import type { Logger } from "@osp/log";
import { type IamToken, IamTokenProvider, type UpstreamPools } from "@osp/upstream";

/** What the pipeline needs from a token source. */
export interface IamTokens {
  /** The current token: synchronous when cached in this process. Rejects with S3Error ServiceUnavailable. */
  getToken(): string | Promise<string>;
  /**
   * The store refused `token` (401/403): drop it everywhere, unless a newer one replaced it already or this
   * process dropped one less than `FORCED_REFRESH_INTERVAL_MS` ago. True when it was dropped (a retry with
   * a fresh token can help).
   */
  invalidate(token: string): boolean;
}

/**
 * At most one refused token dropped per process in this time. A store also answers 403 for reasons that have
 * nothing to do with the token (a retention-locked object, a bucket policy): without this bound, every such
 * request from any client would cost the cluster a token request, against the budget of one per refresh
 * period.
 */
const FORCED_REFRESH_INTERVAL_MS = 60_000;

/** The token source of one (IAM URL, API key), the same object for every route and hook answer naming it. */
export type IamTokensFor = (iamUrl: string, apiKey: string) => IamTokens;

/**
 * One token source per (IAM URL, API key) for the whole worker, each backed by `namespace` (the cache's `iam`
 * namespace, shared by every process).
 */
export function createIamTokenRegistry(
  namespace: CacheNamespace<IamToken>,
  pools: UpstreamPools,
  log: Logger,
): IamTokensFor {
  const byCredential = new Map<string, IamTokens>();
  return (iamUrl, apiKey) => {
    const id = credentialId(iamUrl, apiKey);
    let tokens = byCredential.get(id);
    if (tokens === undefined) {
      tokens = new SharedIamTokens(new IamTokenProvider({ iamUrl, apiKey, pools }), namespace, apiKey, log);
      byCredential.set(id, tokens);
    }
    return tokens;
  };
}

/** Names a credential without revealing it (Redis keys are visible to its operators). */
function credentialId(iamUrl: string, apiKey: string): string {
  return createHash("sha256").update(`${iamUrl}\n${apiKey}`).digest("base64url");
}

class SharedIamTokens implements IamTokens {
  readonly #provider: IamTokenProvider;
  readonly #namespace: CacheNamespace<IamToken>;
  readonly #key: string;
  readonly #log: Pick<Logger, "error">;
  readonly #fill: () => Promise<{ value: IamToken; ttlMs: number; refreshAfterMs: number }>;
  #lastForcedMs = Number.NEGATIVE_INFINITY;

  constructor(
    provider: IamTokenProvider,
    namespace: CacheNamespace<IamToken>,
    apiKey: string,
    log: Pick<Logger, "error">,
  ) {
    this.#provider = provider;
    this.#namespace = namespace;
    this.#log = log;
    this.#key = credentialId(provider.iamUrl, apiKey);
    this.#fill = async () => {
      const token = await this.#provider.fetchToken();
      const now = Date.now();
      return {
        value: { accessToken: token.accessToken, expiresAtMs: token.expiresAtMs },
        ttlMs: Math.max(1, token.expiresAtMs - now),
        refreshAfterMs: Math.max(0, token.refreshAtMs - now),
      };
    };
  }

  getToken(): string | Promise<string> {
    const cached = this.#namespace.peek(this.#key);
    // The entry's TTL is the token's expiry (Fill.ttlMs): a cached token is a valid one.
    if (cached !== undefined && cached !== null) return cached.accessToken;
    return this.#namespace.get(this.#key, this.#fill).then((token) => {
      if (token === null)
        throw new S3Error("ServiceUnavailable", "No IAM token is available.", { source: "upstream" });
      return token.accessToken;
    });
  }

  invalidate(token: string): boolean {
    const cached = this.#namespace.peek(this.#key);
    if (cached !== undefined && cached !== null && cached.accessToken !== token) return true; // replaced already
    const now = Date.now();
    if (now - this.#lastForcedMs < FORCED_REFRESH_INTERVAL_MS) return false;
    this.#lastForcedMs = now;
    this.#provider.invalidate(token);
    // Redis being unreachable does not reject (the cache logs that: invalidationLost in
    // packages/cache/src/create-cache.ts); anything else would be a bug, logged here.
    this.#namespace.invalidate(this.#key).catch((err: unknown) => {
      this.#log.error({ err: errorMessage(err) }, "dropping a refused IAM token from the cache failed");
    });
    return true;
  }
}
