/**
 * Client credentials stored in Redis and managed with `osp credentials add|remove|list`. Every worker
 * on every host sees a change at once: the store publishes an invalidation of the access key's cached
 * entry. Secrets are never stored in the clear: each record holds the secret encrypted with AES-256-GCM
 * under `identity.secretsKey` (from the config, so from the environment or a secret file), with the access
 * key as additional authenticated data, so a record cannot be moved to another key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Cache } from "@osp/cache";

/** The Redis hash holding one field per access key. */
const CREDENTIALS_HASH = "credentials";

export interface StoredCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly principal: string;
  readonly groups: readonly string[];
  /** ISO date of `add`. */
  readonly createdAt: string;
}

interface StoredRecord {
  readonly v: 1;
  readonly principal: string;
  readonly groups: readonly string[];
  readonly createdAt: string;
  /** base64 of iv(12) | tag(16) | ciphertext. */
  readonly secret: string;
}

/** Parses `identity.secretsKey`: 32 bytes as 64 hex digits or base64. Throws TypeError (never echoing it). */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : Buffer.from(trimmed, "base64");
  if (key.length !== 32) {
    throw new TypeError("identity.secretsKey must be 32 bytes, as 64 hex digits or base64");
  }
  return key;
}

export class CredentialStore {
  readonly #cache: Cache;
  readonly #key: Buffer;
  readonly #onChange: (accessKeyId: string) => Promise<void>;

  /** `onChange` drops the key from every worker's credential cache (the namespace's `invalidate`). */
  constructor(cache: Cache, secretsKey: Buffer, onChange: (accessKeyId: string) => Promise<void>) {
    this.#cache = cache;
    this.#key = secretsKey;
    this.#onChange = onChange;
  }

  async add(credential: Omit<StoredCredential, "createdAt">): Promise<void> {
    const record: StoredRecord = {
      v: 1,
      principal: credential.principal,
      groups: [...credential.groups],
      createdAt: new Date().toISOString(),
      secret: this.#encrypt(credential.accessKeyId, credential.secretAccessKey),
    };
    await this.#cache.hashSet(CREDENTIALS_HASH, credential.accessKeyId, JSON.stringify(record));
    await this.#onChange(credential.accessKeyId);
  }

  /** True when the key existed. Every worker refuses it from now on (within 1 s). */
  async remove(accessKeyId: string): Promise<boolean> {
    const existed = await this.#cache.hashDelete(CREDENTIALS_HASH, accessKeyId);
    await this.#onChange(accessKeyId);
    return existed;
  }

  /** `null` = not stored. Rejects when Redis is unreachable (the caller falls back to its cache). */
  async lookup(accessKeyId: string): Promise<StoredCredential | null> {
    const text = await this.#cache.hashGet(CREDENTIALS_HASH, accessKeyId);
    return text === null ? null : this.#decode(accessKeyId, text);
  }

  /** Every stored credential without its secret. */
  async list(): Promise<Array<Omit<StoredCredential, "secretAccessKey">>> {
    const all = await this.#cache.hashGetAll(CREDENTIALS_HASH);
    return Object.entries(all)
      .map(([accessKeyId, text]) => {
        const r = JSON.parse(text) as StoredRecord;
        return { accessKeyId, principal: r.principal, groups: r.groups, createdAt: r.createdAt };
      })
      .sort((a, b) => a.accessKeyId.localeCompare(b.accessKeyId));
  }

  #decode(accessKeyId: string, text: string): StoredCredential {
    const r = JSON.parse(text) as StoredRecord;
    return {
      accessKeyId,
      secretAccessKey: this.#decrypt(accessKeyId, r.secret),
      principal: r.principal,
      groups: r.groups,
      createdAt: r.createdAt,
    };
  }

  #encrypt(accessKeyId: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(accessKeyId, "utf8"));
    const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  #decrypt(accessKeyId: string, sealed: string): string {
    const raw = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(accessKeyId, "utf8"));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    } catch {
      throw new Error(`stored credential ${accessKeyId} cannot be decrypted with identity.secretsKey`);
    }
  }
}
