/**
 * Client identities: who an access key belongs to. The config's `credentials` are the source in this
 * issue; Redis-stored credentials and a hook module (#4) plug in behind `CredentialSource`.
 */
import type { Config } from "@osp/config";

export interface Principal {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface ClientCredential {
  readonly accessKeyId: string;
  /** Only the verifier reads it, to derive signing keys; it is never logged or sent anywhere. */
  readonly secretAccessKey: string;
  readonly principal: Principal;
}

/** Looks up an access key; `null` = unknown (InvalidAccessKeyId). May be sync or async. */
export interface CredentialSource {
  lookup(accessKeyId: string): ClientCredential | null | Promise<ClientCredential | null>;
}

/** The `credentials` section of the config as a credential source. */
export function createConfigCredentials(config: Config): CredentialSource {
  const byKey = new Map<string, ClientCredential>();
  for (const c of config.credentials) {
    byKey.set(c.accessKeyId, {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      principal: Object.freeze({ name: c.principal, groups: Object.freeze([...c.groups]) }),
    });
  }
  return { lookup: (accessKeyId) => byKey.get(accessKeyId) ?? null };
}
