/**
 * Authorization from the config's rules: `(principal, action, bucket, key) → allow | deny`.
 * Deny rules win over allow rules; no matching allow = deny. Rules are compiled once at startup into
 * predicates, so a decision is a few string compares. Caches, hooks and webhooks sit behind the
 * same `Authorizer` type.
 */
import type { Config } from "@osp/config";
import type { S3Action } from "@osp/s3";
import { ANONYMOUS, ANONYMOUS_NAME } from "../identity/anonymous.js";
import type { Principal } from "../identity/credential.js";

export interface AuthzFacts {
  readonly principal: Principal;
  readonly accessKeyId: string;
  readonly action: S3Action;
  readonly operation: string;
  /** `null` for service-level requests (ListBuckets). */
  readonly bucket: string | null;
  readonly key: string | null;
  /** The `prefix` parameter of a listing (`""` when absent); `null` for every other operation. */
  readonly listPrefix: string | null;
  readonly method: string;
  /** The client's address; from X-Forwarded-For / Forwarded only when the peer is a trusted proxy. */
  readonly sourceIp: string;
  readonly presigned: boolean;
}

/** allow = true. Synchronous when only config rules decide (the hot path never awaits then). */
export type Authorizer = (facts: AuthzFacts) => boolean | Promise<boolean>;
/** The config rules alone: always synchronous. */
export type RuleAuthorizer = (facts: AuthzFacts) => boolean;

interface CompiledRule {
  readonly deny: boolean;
  readonly principals: ReadonlySet<string> | null; // null = any signed principal
  /** Names `anonymous`: matches unsigned requests (`principal: "*"` does only in a deny). */
  readonly anonymous: boolean;
  readonly groups: ReadonlySet<string> | null;
  readonly buckets: readonly RegExp[];
  readonly prefixes: readonly string[] | null;
  readonly actions: ReadonlySet<string>;
}

/**
 * Compiles `authorization.rules`. Throws when an allow rule grants `anonymous` more than read and list (the
 * config check refuses such a rule first, with its key path).
 */
export function compileRules(config: Config): RuleAuthorizer {
  const rules: CompiledRule[] = config.authorization.rules.map((r, i) => {
    const named = [...(r.principal === undefined ? [] : [r.principal]), ...(r.principals ?? [])];
    const anonymous = named.includes(ANONYMOUS_NAME);
    if (anonymous && r.effect !== "deny" && r.actions.some((a) => a !== "read" && a !== "list")) {
      throw new Error(`authorization.rules[${i}] grants anonymous more than read and list`);
    }
    // `anonymous` is not a name a signed principal can match (a credential called so matches nothing).
    const names = named.filter((n) => n !== ANONYMOUS_NAME);
    return {
      deny: r.effect === "deny",
      anonymous,
      principals: names.includes("*") ? null : names.length > 0 || anonymous ? new Set(names) : null,
      groups: r.groups === undefined ? null : new Set(r.groups),
      buckets: r.buckets.map(compileGlob),
      prefixes: r.prefixes === undefined ? null : [...r.prefixes],
      actions: new Set(r.actions),
    };
  });
  const onlyGroups = (r: CompiledRule) => r.principals === null && r.groups !== null;
  const matches = (r: CompiledRule, f: AuthzFacts): boolean => {
    if (!r.actions.has("*") && !r.actions.has(f.action)) return false;
    if (f.principal === ANONYMOUS) {
      // Only a rule naming anonymous grants an unsigned request; a deny for everyone refuses it too.
      if (!r.anonymous && !(r.deny && r.principals === null && !onlyGroups(r))) return false;
    } else {
      // A rule naming principals and groups matches either; one naming only groups needs a group.
      const byName = r.principals === null ? !onlyGroups(r) : r.principals.has(f.principal.name);
      const byGroup = r.groups !== null && f.principal.groups.some((g) => r.groups!.has(g));
      if (!byName && !byGroup) return false;
    }
    if (f.bucket === null) return r.buckets.some((re) => re.source === "^.*$");
    if (!r.buckets.some((re) => re.test(f.bucket!))) return false;
    if (r.prefixes !== null) {
      // Object requests are checked by key, listings by their `prefix` parameter (so a listing can't
      // reveal names outside the allowed prefixes). Other bucket-level requests name no key: the probes
      // (HeadBucket, GetBucketLocation: action "list") reveal none, so a prefix-limited allow covers them
      // and a prefix-limited deny does not; the rest act on keys the request line does not name
      // (DeleteObjects lists them in its body) or on the whole bucket, so a prefix-limited allow does not
      // cover them and a prefix-limited deny does.
      // A listing is covered by an allow when its prefix lies inside one of the rule's prefixes, and refused
      // by a deny when it could show any name under one (its prefix and the denied one overlap: `""` and
      // `secre` both reach `secret/`).
      if (f.key !== null) {
        if (!r.prefixes.some((p) => f.key!.startsWith(p))) return false;
      } else if (f.listPrefix !== null) {
        const listed = f.listPrefix;
        const overlaps = (p: string): boolean => listed.startsWith(p) || (r.deny && p.startsWith(listed));
        if (!r.prefixes.some(overlaps)) return false;
      } else if ((f.action === "list") === r.deny) return false;
    }
    return true;
  };
  return (facts) => {
    let allowed = false;
    for (const r of rules) {
      if (!matches(r, facts)) continue;
      if (r.deny) return false;
      allowed = true;
    }
    return allowed;
  };
}

/** `*` = any run of characters, `?` = one character; everything else literal. */
function compileGlob(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}
