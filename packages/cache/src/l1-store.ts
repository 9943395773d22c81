/**
 * The in-process L1: one bounded map shared by every namespace of a Cache, bounded by entries and by an
 * estimate of the heap bytes its entries hold. Eviction is CLOCK (second chance) over the Map's insertion
 * order rather than strict LRU, so a hit on the hot path only sets a flag instead of deleting and
 * re-inserting the key (measured on Node 20, 10k keys: ~34 ns against ~144 ns per hit); eviction stays
 * O(1) amortized (each re-insertion consumes a flag some hit set).
 */

import { MapHand } from "./map-hand.js";

export class L1Entry {
  /** Set by a hit, cleared when eviction passes over the entry (second chance). */
  referenced = false;
  /** The estimate the store counted for this entry (`entryBytes`), set when it is stored. */
  bytes = 0;

  constructor(
    readonly value: unknown,
    /** Absolute, nowMs clock. */
    readonly expiresAtMs: number,
    /** Absolute, nowMs clock; Infinity without refresh-ahead. Moved forward when a refresh fails. */
    public refreshAtMs: number,
    /** The namespace generation it was stored under: invalidateAll bumps it, older entries are misses. */
    readonly generation: number,
    /** What refreshes it in the background; null for values put with `set`. */
    readonly fill: (() => Promise<unknown>) | null,
  ) {}
}

/**
 * What one entry costs besides its key and value: the L1Entry object and its two heap numbers, the Map's
 * slot, a refresh closure when there is one (V8 on x64 with pointer compression, from heap snapshots).
 */
const ENTRY_OVERHEAD_BYTES = 160;
/** Objects nested deeper than this count as this many bytes each rather than being walked. */
const MAX_DEPTH = 4;
const DEEP_OBJECT_BYTES = 256;
/**
 * Values walked per estimate: past it, what is left counts as `DEEP_OBJECT_BYTES` each. Cached values are
 * small records; this bounds the walk of one that shares a wide array with itself (no visited set is kept).
 */
const MAX_VISITS = 4096;
const TWO_BYTE = /[^\u0000-\u00ff]/;

/**
 * An estimate of the heap bytes `value` holds, for the byte bound: strings as one or two bytes per
 * character (as V8 stores them) plus a header, arrays, maps, sets and plain objects as a header, a slot per element or property, and
 * their contents; binary data by its length. Computed once per stored entry (a miss or a refresh), never
 * on a hit. It does not see sharing (a string held by two entries counts twice), which errs on the side of
 * a smaller cache.
 */
export function estimateBytes(value: unknown): number {
  let visits = 0;
  const walk = (v: unknown, depth: number): number => {
    switch (typeof v) {
      case "string":
        // V8 keeps a string with a character past U+00FF at two bytes per character.
        return 16 + (TWO_BYTE.test(v) ? 2 * v.length : v.length);
      case "number":
      case "bigint":
        return 16;
      case "object":
        break;
      default:
        return 0;
    }
    if (v === null) return 0;
    if (++visits > MAX_VISITS || depth >= MAX_DEPTH) return DEEP_OBJECT_BYTES;
    if (ArrayBuffer.isView(v)) return 96 + v.byteLength;
    if (v instanceof ArrayBuffer) return 64 + v.byteLength;
    let bytes = 24;
    if (Array.isArray(v) || v instanceof Set) {
      for (const item of v) bytes += 8 + walk(item, depth + 1);
    } else if (v instanceof Map) {
      for (const [key, item] of v) bytes += 16 + walk(key, depth + 1) + walk(item, depth + 1);
    } else {
      for (const key of Object.keys(v)) bytes += 8 + walk((v as Record<string, unknown>)[key], depth + 1);
    }
    return bytes;
  };
  return walk(value, 0);
}

/** What storing `value` under `id` is counted as against the byte bound. */
export function entryBytes(id: string, value: unknown): number {
  return ENTRY_OVERHEAD_BYTES + 16 + id.length + estimateBytes(value);
}

/**
 * Default byte bound of one worker's L1: 16 MiB holds some 40,000 client credentials (about 400 bytes
 * each by `entryBytes`) while keeping a worker under load within its memory budget (docs/operations.md).
 */
export const DEFAULT_L1_MAX_BYTES = 16 * 2 ** 20;

/**
 * Share of the byte bound that negative entries (a `null` value: an unknown access key, a deny) may hold.
 * Past it a new one replaces the oldest negatives: a flood of made-up access keys, each remembered as
 * unknown, churns only its own kind and cannot push the credentials and tokens of real clients out.
 */
const NEGATIVE_SHARE = 1 / 8;

export class L1Store {
  readonly #map = new Map<string, L1Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxNegativeBytes: number;
  /** The negative entries, oldest first (a subset of `#map`). */
  readonly #negatives = new Map<string, L1Entry>();
  #bytes = 0;
  #negativeBytes = 0;
  /** The eviction clock's hand over `#map`. */
  readonly #hand = new MapHand(this.#map);
  /** The hand over `#negatives`: always at the oldest negative entry. */
  readonly #negativeHand = new MapHand(this.#negatives);

  constructor(maxEntries: number, maxBytes: number = DEFAULT_L1_MAX_BYTES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError("l1MaxEntries must be a positive integer");
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new TypeError("l1MaxBytes must be a positive integer");
    }
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#maxNegativeBytes = Math.floor(maxBytes * NEGATIVE_SHARE);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The estimated bytes the stored entries hold (`entryBytes` summed). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The part of `bytes` held by negative entries (a `null` value). */
  get negativeBytes(): number {
    return this.#negativeBytes;
  }

  /** The entry as stored, expired or not (the namespace checks expiry and generation). */
  get(id: string): L1Entry | undefined {
    const entry = this.#map.get(id);
    if (entry !== undefined) entry.referenced = true;
    return entry;
  }

  /**
   * Stores `entry`, first evicting until both bounds leave room for it. An entry larger than the whole
   * byte bound is not stored (the caller's value is still returned to its request; it is just not cached).
   * A negative entry first makes room among the negatives, oldest first, within their share.
   */
  set(id: string, entry: L1Entry): void {
    this.delete(id);
    const bytes = entryBytes(id, entry.value);
    if (bytes > this.#maxBytes) return;
    const negative = entry.value === null;
    if (negative) {
      if (bytes > this.#maxNegativeBytes) return;
      while (this.#negativeBytes + bytes > this.#maxNegativeBytes) {
        const oldest = this.#negativeHand.next();
        if (oldest === null) break;
        this.delete(oldest[0]);
      }
    }
    while (
      this.#map.size > 0 &&
      (this.#map.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes)
    ) {
      this.#evictOne();
    }
    entry.bytes = bytes;
    this.#bytes += bytes;
    if (negative) {
      this.#negativeBytes += bytes;
      this.#negatives.set(id, entry);
    }
    this.#map.set(id, entry);
  }

  delete(id: string): void {
    const entry = this.#map.get(id);
    if (entry === undefined) return;
    this.#map.delete(id);
    this.#uncount(id, entry);
  }

  clear(): void {
    this.#map.clear();
    this.#negatives.clear();
    this.#hand.restart();
    this.#negativeHand.restart();
    this.#bytes = 0;
    this.#negativeBytes = 0;
  }

  #uncount(id: string, entry: L1Entry): void {
    this.#bytes -= entry.bytes;
    if (entry.value === null) {
      this.#negativeBytes -= entry.bytes;
      this.#negatives.delete(id);
    }
  }

  /**
   * Second chance: the entry under the clock hand leaves unless a hit marked it since the hand last passed;
   * a marked one is unmarked and moved to the end. Bounded: after one full pass every mark is cleared, so
   * the loop ends within size + 1 steps.
   */
  #evictOne(): void {
    for (;;) {
      const step = this.#hand.next();
      if (step === null) return;
      const [id, entry] = step;
      this.#map.delete(id);
      if (!entry.referenced) {
        this.#uncount(id, entry);
        return;
      }
      entry.referenced = false;
      this.#map.set(id, entry);
    }
  }
}
