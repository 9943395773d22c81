/**
 * The memory request bodies are spooled in before the upstream request starts (docs/security.md "Request
 * bodies"): one worker's buffers, reused from request to request.
 *
 * Why reuse: a spooled body lives for the whole upload (tens of milliseconds), long enough for its Buffers
 * to survive scavenges and be promoted; V8 then frees their off-heap memory only at a full collection, so
 * allocating per request grew put-1m's worker RSS by ~30 MiB and cost ~1 ms of CPU per 1 MiB request
 * (bench/proxy). Reused buffers are allocated once and never become garbage.
 *
 * Buffers come in power-of-two sizes from 64 KiB; the arena never holds more than `totalBytes` (lent and
 * free together): when a size is missing and the arena is full, free buffers of other sizes are dropped.
 */

const MIN_CLASS_BYTES = 64 * 1024;

export class SpoolArena {
  readonly maxBodyBytes: number;
  readonly totalBytes: number;
  /** Free buffers by size. */
  readonly #free = new Map<number, Buffer[]>();
  /** Bytes of every buffer the arena owns, lent or free. */
  #ownedBytes = 0;
  #freeBytes = 0;

  constructor(maxBodyBytes: number, totalBytes: number) {
    this.maxBodyBytes = maxBodyBytes;
    this.totalBytes = totalBytes;
  }

  /** Bytes owned (lent and free): what spooling adds to the worker's memory at most. */
  get ownedBytes(): number {
    return this.#ownedBytes;
  }

  /**
   * A buffer of at least `length` bytes, or null when the body is over `maxBodyBytes` (unless `force`) or
   * the arena cannot make room. Give it back with `release`.
   */
  acquire(length: number, force = false): Buffer | null {
    if (!force && length > this.maxBodyBytes) return null;
    const size = classOf(length);
    const free = this.#free.get(size);
    const reused = free?.pop();
    if (reused !== undefined) {
      this.#freeBytes -= size;
      return reused;
    }
    if (this.#ownedBytes + size > this.totalBytes) this.#evict(this.#ownedBytes + size - this.totalBytes);
    if (this.#ownedBytes + size > this.totalBytes) return null;
    this.#ownedBytes += size;
    return Buffer.allocUnsafeSlow(size);
  }

  /**
   * Takes a buffer back. `reusable: false` when a socket may still be reading from it (an upstream request
   * that did not complete): the arena forgets it and the garbage collector frees it once nothing holds it.
   */
  release(buffer: Buffer, reusable: boolean): void {
    if (!reusable) {
      this.#ownedBytes -= buffer.length;
      return;
    }
    let list = this.#free.get(buffer.length);
    if (list === undefined) {
      list = [];
      this.#free.set(buffer.length, list);
    }
    list.push(buffer);
    this.#freeBytes += buffer.length;
  }

  /** Drops free buffers until `bytes` are gone or none is left. */
  #evict(bytes: number): void {
    let dropped = 0;
    for (const [size, list] of this.#free) {
      while (list.length > 0 && dropped < bytes) {
        list.pop();
        dropped += size;
        this.#ownedBytes -= size;
        this.#freeBytes -= size;
      }
      if (dropped >= bytes) return;
    }
  }
}

/** The power of two at or above `length`, at least 64 KiB. */
function classOf(length: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < length) size *= 2;
  return size;
}
