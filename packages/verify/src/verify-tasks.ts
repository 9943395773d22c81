/**
 * The plain data that crosses between the event loop and a pool thread (structured clone: body bytes are
 * copied to the thread, and only verdicts and ranges come back). Shared by `worker-lanes.ts`,
 * `pooled-body-verifier.ts` and the thread's `verify-worker.ts`.
 */
import type {
  AuthenticatedRequest,
  ChunkedDecoderOptions,
  PayloadVerifierOptions,
  verifySignature,
} from "@osp/sigv4";
import type { S3ErrorData } from "./s3-error.js";

/** What a request body is checked with: the same options sigv4's inline verifiers take. */
export type BodyVerifierSpec =
  | { readonly kind: "chunked"; readonly options: ChunkedDecoderOptions }
  | { readonly kind: "payload"; readonly options: PayloadVerifierOptions };

/** The third parameter of sigv4's `verifySignature`. */
export type VerifySignatureOptions = NonNullable<Parameters<typeof verifySignature>[2]>;

/** Every result says when the thread took the task: `performance.timeOrigin + performance.now()` there. */
export interface TimedResult {
  readonly startedAtMs: number;
}

/** `verifyRequest`: key derivation through the thread's own key cache, then the signature check. */
export interface RequestTask {
  readonly auth: AuthenticatedRequest;
  readonly secret: string;
  readonly options: VerifySignatureOptions;
}

export interface RequestResult extends TimedResult {
  readonly failure: S3ErrorData | null;
  /** The derived signing key (32 bytes), for the body verifier of the same request. */
  readonly signingKey: Uint8Array;
}

/**
 * `verifyBody`: the next received pieces of one body, in order. The first task of a session carries the
 * verifier's spec (`open`), the last one `end: true` (final verdicts and the held-back tail).
 */
export interface BodyTask {
  readonly session: number;
  readonly open: BodyVerifierSpec | null;
  readonly pieces: Uint8Array[];
  readonly end: boolean;
}

export interface BodyResult extends TimedResult {
  /** The first failed verdict; nothing of this task may be forwarded then. */
  readonly failure: S3ErrorData | null;
  /**
   * What to forward, in order, as triples (index, start, end): index < the task's piece count is a range of that
   * piece (the event loop forwards its own copy of it), else `extras[index - pieceCount]` whole (bytes the
   * verifier copied, such as the held-back tail).
   */
  readonly emits: number[];
  readonly extras: Uint8Array[];
  readonly decodedBytes: number;
  readonly complete: boolean;
  /** Chunked bodies, after `end`: the trailers received. */
  readonly trailers: ReadonlyArray<readonly [string, string]>;
}

/** `closeBody`: forget a session that will not be ended (client gone, failure on this side). */
export interface CloseTask {
  readonly session: number;
}
