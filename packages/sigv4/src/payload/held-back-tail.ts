/**
 * The hold-back (docs/s3-sigv4.md "Hold-back"): the last decoded byte(s) of a body are kept until every
 * verdict on it has passed, so an upstream request sent with Content-Length = decoded length can never
 * complete with a bad body; on failure the consumer destroys the upstream request instead.
 */

/**
 * How many bytes are held back. One is enough: an upstream that was promised N bytes and got N − 1 stores
 * nothing when the connection is destroyed. The held bytes are copied, never views of a caller's chunk.
 */
export const HELD_BACK_BYTES = 1;

/**
 * Releases decoded bytes as they come, minus the held-back tail.
 * - Known total (`x-amz-decoded-content-length`, Content-Length): the tail is found by position, so only the
 *   slice that reaches the last bytes is cut; every other slice is emitted as is (no copy).
 * - Unknown total: the tail rolls, so each slice is cut and the previous tail emitted before it (one extra
 *   emit of ≤ `HELD_BACK_BYTES` bytes per slice, the price of not knowing where the body ends).
 * - A total of 0 holds nothing back: see `BodyVerifier` for what a consumer must do then.
 */
export class HeldBackTail {
  readonly #releaseLimit: number;
  readonly #held = Buffer.allocUnsafe(HELD_BACK_BYTES);
  #heldLength = 0;

  constructor(totalBytes: number | null) {
    this.#releaseLimit = totalBytes === null ? -1 : Math.max(0, totalBytes - HELD_BACK_BYTES);
  }

  /** Bytes currently held back (copied, owned by this object). */
  get heldBytes(): number {
    return this.#heldLength;
  }

  /**
   * Passes one decoded slice; `offset` = decoded bytes before it. With a known total the caller guarantees
   * `offset + slice.length <= total` (it rejects longer bodies before calling).
   */
  pass(slice: Buffer, offset: number, emit: (data: Buffer) => void): void {
    const length = slice.length;
    if (length === 0) return;
    if (this.#releaseLimit >= 0) {
      const end = offset + length;
      if (end <= this.#releaseLimit) {
        emit(slice);
        return;
      }
      const cut = this.#releaseLimit - offset;
      if (cut > 0) emit(slice.subarray(0, cut));
      this.#heldLength += slice.copy(this.#held, this.#heldLength, Math.max(cut, 0));
      return;
    }
    this.#roll(slice, emit);
  }

  /** Emits the held-back bytes: call only once every verdict on the body has passed. */
  release(emit: (data: Buffer) => void): void {
    if (this.#heldLength === 0) return;
    const tail = Buffer.from(this.#held.subarray(0, this.#heldLength));
    this.#heldLength = 0;
    emit(tail);
  }

  #roll(slice: Buffer, emit: (data: Buffer) => void): void {
    const length = slice.length;
    if (length >= HELD_BACK_BYTES) {
      this.release(emit);
      if (length > HELD_BACK_BYTES) emit(slice.subarray(0, length - HELD_BACK_BYTES));
      slice.copy(this.#held, 0, length - HELD_BACK_BYTES);
      this.#heldLength = HELD_BACK_BYTES;
      return;
    }
    const overflow = this.#heldLength + length - HELD_BACK_BYTES;
    if (overflow > 0) {
      emit(Buffer.from(this.#held.subarray(0, overflow)));
      this.#held.copy(this.#held, 0, overflow, this.#heldLength);
      this.#heldLength -= overflow;
    }
    this.#heldLength += slice.copy(this.#held, this.#heldLength);
  }
}
