/**
 * The common shape of every streaming body check (aws-chunked decoding, hex payload hash, Content-MD5,
 * x-amz-checksum-* headers, length).
 *
 * Hold-back contract (docs/s3-sigv4.md "Hold-back"): decoded bytes are released through `emit` as soon as
 * they may be forwarded, except a held-back tail (`HELD_BACK_BYTES`): the final bytes are released only by
 * `end()` after the last verdict passed, so a consumer that forwards with Content-Length = decoded length can
 * never complete a bad body upstream; on any throw it must destroy the upstream request.
 *
 * - Emitted buffers may be views of the chunk passed to `write` (no copy); the verifier itself never keeps a
 *   reference to a written chunk after `write` returns, so a caller may reuse its chunk memory (uWS does) once
 *   the consumer of `emit` has copied or sent what it got.
 * - A body of 0 decoded bytes has nothing to hold back: a consumer must not start an upstream request with
 *   Content-Length 0 before `end()` returned (equivalently, before `complete` is true and `end()` passed).
 * - After a throw the verifier is failed: every later `write`/`end` throws the same error.
 */
export interface BodyVerifier {
  /** Feeds received bytes; releases what may be forwarded. Throws S3Error on a failed verdict or bad framing. */
  write(chunk: Buffer, emit: (data: Buffer) => void): void;
  /** The client body ended: final verdicts, then the held-back tail is emitted. Throws S3Error on failure. */
  end(emit: (data: Buffer) => void): void;
  /** Decoded (payload) bytes seen so far, held-back ones included. */
  readonly decodedBytes: number;
  /** Chunked: terminal chunk and trailer section seen. Plain bodies: every expected byte seen and verified. */
  readonly complete: boolean;
  /** Decoded bytes received but not yet emitted (the held-back tail), ≤ `HELD_BACK_BYTES`. */
  readonly heldBackBytes: number;
}

/** Type of the `emit` callback. */
export type Emit = (data: Buffer) => void;
