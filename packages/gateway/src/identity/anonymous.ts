/**
 * Public reads: an unsigned request (no `Authorization`, no query authentication) is the
 * principal `anonymous` when, and only when, some allow rule of `authorization.rules` names it; otherwise it
 * is refused as before (403 AccessDenied). Anonymous requests may only read and list (the config refuses a
 * rule granting more), and of those only the operations that read objects or list names (the pipeline
 * refuses the rest before asking any authorizer); they carry no body (their body plan is
 * pipeline/body-plan.ts's `NO_BODY_PLAN`) and are counted per source IP by `rateLimit`. Upstream, osp signs
 * them with its own credentials as it signs every request. See README "Public reads" and docs/security.md.
 */
import type { Config } from "@osp/config";
import { S3Error } from "@osp/errors";
import type { ClientCredential, Principal } from "./credential.js";

/** The name rules use for unsigned requests; config credentials may not take it. */
export const ANONYMOUS_NAME = "anonymous";

/** The one principal object of unsigned requests: rules recognise it by identity, not by name. */
export const ANONYMOUS: Principal = Object.freeze({ name: ANONYMOUS_NAME, groups: Object.freeze([]) });

/** Authorization facts of an unsigned request carry the access key `""`. */
export const ANONYMOUS_CREDENTIAL: ClientCredential = Object.freeze({
  accessKeyId: "",
  secretAccessKey: "",
  principal: ANONYMOUS,
});

/** Whether some allow rule names `anonymous`: unsigned requests are refused outright otherwise. */
export function anonymousAllowed(config: Config): boolean {
  return config.authorization.rules.some(
    (r) =>
      r.effect === "allow" &&
      (r.principal === ANONYMOUS_NAME || (r.principals ?? []).includes(ANONYMOUS_NAME)),
  );
}

/**
 * The operations an unsigned request may ask for: reading objects and listing their names. The rest of `read`
 * and `list` (ACLs, tagging, attributes, versions, multipart uploads, Select, OPTIONS) reveals more than a
 * public object's bytes, and ListBuckets the bucket names (S3 refuses it anonymously too).
 */
const ANONYMOUS_OPERATIONS: ReadonlySet<string> = new Set([
  "GetObject",
  "HeadObject",
  "ListObjects",
  "ListObjectsV2",
  "HeadBucket",
  "GetBucketLocation",
]);

/**
 * Refuses what an unsigned request may never do, whatever the rules, hooks or webhooks say: an operation
 * outside `ANONYMOUS_OPERATIONS`, and any body.
 */
export function checkAnonymousRequest(operation: string, hasBody: boolean): void {
  if (!ANONYMOUS_OPERATIONS.has(operation)) {
    throw new S3Error("AccessDenied", "Anonymous requests may only read objects and list them.");
  }
  if (hasBody) throw new S3Error("AccessDenied", "Anonymous requests may not carry a body.");
}
