import * as crypto from "node:crypto";
import { deriveSigningKey } from "./derive-signing-key.js";
import type { CredentialScope } from "./types.js";

const oneShot = typeof crypto.hash === "function" ? crypto.hash : null;

/** Salted SHA-256 of the secret as a 32-character binary string (a short, fast Map key). */
function fingerprint(salt: string, secret: string): string {
  if (oneShot !== null) return oneShot("sha256", salt + secret, "binary");
  return crypto
    .createHash("sha256")
    .update(salt + secret)
    .digest("binary");
}

/** How many secrets the memo of recent lookups holds before it starts over. */
const RECENT_MAX = 64;

interface Recent {
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly key: Buffer;
}

/**
 * A bounded, approximately-LRU cache of derived signing keys (docs/s3-sigv4.md "String to sign and signing
 * key"). Entries are keyed by a salted SHA-256 fingerprint of the secret plus date, region and service, and
 * hold only the derived key: the secret is never copied (the memo of recent lookups only refers to strings
 * held elsewhere), and the per-cache random salt keeps the fingerprints useless outside this process. Keying
 * by the secret (not the access key id) means a rotated secret can never hit a stale key.
 *
 * Eviction is generational, to keep a hit at one Map lookup: new and recently used entries live in the
 * young generation; when it holds `maxEntries / 2`, it becomes the old one and the previous old one is
 * dropped; a hit in the old generation moves the entry back to the young one. So at most `maxEntries`
 * keys are held, and a key used at least once per `maxEntries / 2` insertions is never evicted.
 */
export class SigningKeyCache {
  readonly maxEntries: number;
  readonly #generationSize: number;
  #young = new Map<string, Buffer>();
  #old = new Map<string, Buffer>();
  readonly #salt = crypto.randomBytes(16).toString("base64");
  /**
   * The last key per secret of the most recent secrets (at most RECENT_MAX): the same few secrets (the
   * config's clients, the upstreams') sign request after request, and a hit here skips the fingerprint
   * (a SHA-256) and the id string, twice per proxied request. It holds references to secret
   * strings that the config or the credential cache hold anyway, never a copy.
   */
  #recent = new Map<string, Recent>();
  #hits = 0;
  #misses = 0;

  /** `maxEntries` ≥ 2, default 1000. */
  constructor(maxEntries = 1000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2) {
      throw new RangeError(`SigningKeyCache: maxEntries must be an integer ≥ 2, got ${maxEntries}`);
    }
    this.maxEntries = maxEntries;
    this.#generationSize = Math.floor(maxEntries / 2);
  }

  /**
   * The signing key of `secret` for `scope`: derived on a miss (four HMACs, 18–20 µs) and cached; a hit
   * on a recent secret costs one Map lookup, any other hit one SHA-256 of the secret and a Map lookup. The returned buffer is shared: do not modify it.
   */
  get(secret: string, scope: CredentialScope): Buffer {
    const { date, region, service } = scope;
    const recent = this.#recent.get(secret);
    if (
      recent !== undefined &&
      recent.date === date &&
      recent.region === region &&
      recent.service === service
    ) {
      this.#hits++;
      return recent.key;
    }
    const key = this.#lookup(secret, date, region, service);
    if (this.#recent.size >= RECENT_MAX) this.#recent.clear();
    this.#recent.set(secret, { date, region, service, key });
    return key;
  }

  #lookup(secret: string, date: string, region: string, service: string): Buffer {
    // Length prefixes keep the id unambiguous whatever characters a region or service holds.
    const id = `${fingerprint(this.#salt, secret)}${date.length}:${date}${region.length}:${region}${service}`;
    const young = this.#young.get(id);
    if (young !== undefined) {
      this.#hits++;
      return young;
    }
    const old = this.#old.get(id);
    if (old !== undefined) {
      this.#hits++;
      this.#old.delete(id);
      this.#insert(id, old);
      return old;
    }
    this.#misses++;
    const key = deriveSigningKey(secret, date, region, service);
    this.#insert(id, key);
    return key;
  }

  #insert(id: string, key: Buffer): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(id, key);
  }

  /** Entries held and hit/miss counters since creation, for metrics. */
  stats(): { size: number; hits: number; misses: number } {
    return { size: this.#young.size + this.#old.size, hits: this.#hits, misses: this.#misses };
  }

  /** Drops every entry (e.g. after a credential reload). */
  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }
}
