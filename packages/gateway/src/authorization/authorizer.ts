/**
 * Authorization from every configured source: the config's rules, a JS hook module's
 * `authorize(facts)`, and an OPA-compatible HTTP webhook. A request is allowed only when every configured
 * source allows it (deny wins); with no source at all nothing is allowed. Rules are compiled predicates and
 * run first, synchronously; hook and webhook decisions are cached in L1 and Redis (`cache.authzTtl` for
 * allow, `cache.denyTtl` for deny) under a key built from `authorization.cacheKey` facts only. A hook that
 * throws, a webhook that is down, slow or answers nonsense: AccessDenied (fail closed), logged.
 */

import { createHash } from "node:crypto";
import type { Cache } from "@osp/cache";
import type { Config } from "@osp/config";
import { errorMessage } from "@osp/errors";
import type { Logger } from "@osp/log";
import { sendUpstreamBuffered, type UpstreamPools } from "@osp/upstream";
import { gatewayNamespaces } from "../cache-namespaces.js";
import { loadHookFunction } from "../load-hook-module.js";
import { type Authorizer, type AuthzFacts, compileRules } from "./rules.js";

type Decision = boolean | { allow?: unknown } | null | undefined;
type AuthorizeHook = (facts: AuthzFactsJson) => Decision | Promise<Decision>;

/** The facts as hooks and webhooks see them (plain JSON: `principal` is the name, `groups` its groups). */
export type AuthzFactsJson = Omit<AuthzFacts, "principal"> & {
  readonly principal: string;
  readonly groups: readonly string[];
};

export async function createAuthorizer(
  config: Config,
  cache: Cache,
  pools: UpstreamPools,
  log: Logger,
): Promise<Authorizer> {
  const rules = config.authorization.rules.length > 0 ? compileRules(config) : null;
  const dynamic: Array<(facts: AuthzFactsJson) => Promise<boolean>> = [];
  const { hook, webhook } = config.authorization;
  if (hook !== undefined) {
    const { fn } = await loadHookFunction<AuthorizeHook>(hook, "authorize", config.source);
    dynamic.push(async (facts) => {
      try {
        return isAllow(await fn(facts));
      } catch (err) {
        log.error({ err: errorMessage(err), operation: facts.operation }, "authorization hook threw");
        return false;
      }
    });
  }
  if (webhook !== undefined) dynamic.push(createWebhook(webhook, pools, log));
  if (dynamic.length === 0) return rules ?? (() => false);

  const namespace = gatewayNamespaces(cache, config).authz;
  const keyFacts = config.authorization.cacheKey;
  const decide = async (facts: AuthzFactsJson): Promise<boolean> => {
    for (const source of dynamic) if (!(await source(facts))) return false;
    return true;
  };
  return (facts) => {
    if (rules !== null && !rules(facts)) return false;
    const json = toJson(facts);
    const key = decisionKey(json, keyFacts);
    const cached = namespace.peek(key);
    if (cached !== undefined && cached !== null) return cached;
    return namespace
      .get(key, async () => {
        const allowed = await decide(json);
        return { value: allowed, ttlMs: allowed ? config.cache.authzTtl : config.cache.denyTtl };
      })
      .then((v) => v === true);
  };
}

/** sha256 over the chosen facts in a fixed order: the key never holds more than the policy reads. */
export function decisionKey(facts: AuthzFactsJson, keyFacts: readonly (keyof AuthzFactsJson)[]): string {
  const parts = keyFacts.map((name) => [name, facts[name]]);
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url");
}

function toJson(f: AuthzFacts): AuthzFactsJson {
  return {
    principal: f.principal.name,
    groups: f.principal.groups,
    accessKeyId: f.accessKeyId,
    action: f.action,
    operation: f.operation,
    bucket: f.bucket,
    key: f.key,
    listPrefix: f.listPrefix,
    method: f.method,
    sourceIp: f.sourceIp,
    presigned: f.presigned,
  };
}

/** `true`, or `{ allow: true }` (OPA's `result` of a rule object): anything else denies. */
function isAllow(decision: unknown): boolean {
  if (decision === true) return true;
  return (
    typeof decision === "object" && decision !== null && (decision as { allow?: unknown }).allow === true
  );
}

function createWebhook(
  webhook: NonNullable<Config["authorization"]["webhook"]>,
  pools: UpstreamPools,
  log: Logger,
): (facts: AuthzFactsJson) => Promise<boolean> {
  const url = new URL(webhook.url);
  const headers: Array<[string, string]> = [
    ["host", url.host],
    ["content-type", "application/json"],
    ["accept", "application/json"],
  ];
  for (const [name, value] of Object.entries(webhook.headers)) headers.push([name.toLowerCase(), value]);
  const path = url.pathname + url.search;
  return async (facts) => {
    try {
      const response = await sendUpstreamBuffered(
        pools,
        {
          origin: url.origin,
          method: "POST",
          path,
          headers,
          body: Buffer.from(JSON.stringify({ input: facts })),
        },
        { maxResponseBytes: 64 * 1024, timeoutMs: webhook.timeout },
      );
      if (response.status !== 200) {
        log.warn(
          { status: response.status, webhook: url.origin + url.pathname },
          "authorization webhook refused",
        );
        return false;
      }
      return isAllow((JSON.parse(response.body.toString("utf8")) as { result?: unknown }).result);
    } catch (err) {
      log.warn(
        { err: errorMessage(err), webhook: url.origin + url.pathname },
        "authorization webhook failed",
      );
      return false;
    }
  };
}
