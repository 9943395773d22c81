/**
 * Where SigV4 verification work runs: header/presigned signature checks,
 * signing-key derivation on a cache miss, and the hashing of signed bodies (aws-chunked chunk signatures, the
 * hex `x-amz-content-sha256`), behind one interface whatever the mode:
 * - `inline`: everything on the event loop, exactly the sigv4 calls the gateway made before this package.
 * - `pool`: everything on pool threads (derivation through each thread's own key cache).
 * - `auto`: what bench/pool found worth a hand-off on these machines (README.md): signatures and
 *   derivation inline; signed bodies from `autoMinBodyBytes` (8 MiB) on to a thread, when there are threads:
 *   `threads: 0` gives only the CPUs no event loop uses, none with one worker per CPU.
 * Whatever the mode, work that cannot be placed on a thread (pool closing, queue reservations full) runs
 * inline, and stateless work whose thread failed is redone inline: the verdict never depends on the pool.
 */

import { errorMessage } from "@osp/errors";
import {
  type AuthenticatedRequest,
  type BodyVerifier,
  createChunkedDecoder,
  createPayloadVerifier,
  type SigningKeyCache,
  verifySignature,
  verifySignatureV2,
} from "@osp/sigv4";
import { PooledBody, type PooledBodyVerifier } from "./pooled-body-verifier.js";
import { S3Error } from "./s3-error.js";
import { type VerifyFallbackEvent, verifyFallbackChannel } from "./verify-channels.js";
import { resolveVerifyOptions, type VerifyMode, type VerifyOptions } from "./verify-options.js";
import type { BodyVerifierSpec, RequestResult, VerifySignatureOptions } from "./verify-tasks.js";
import { WorkerLanes } from "./worker-lanes.js";

export interface VerifiedRequest {
  /** `null` when the signature matches, else the 403 verdict (SignatureDoesNotMatch with S3's fields). */
  readonly failure: S3Error | null;
  /** The signing key of the request's secret and scope: the aws-chunked body verifier needs it. */
  readonly signingKey: Buffer;
}

export interface VerifyPool {
  readonly mode: VerifyMode;
  /** Pool threads of this process; 0 when the mode is inline. */
  readonly threads: number;
  /**
   * `SigningKeyCache.get` + `verifySignature` of a request `authenticateRequest` accepted: a value when run
   * inline, a promise when sent to a thread (`await` takes both). Never rejects: a failed hand-off is redone
   * inline. In pool mode the thread derives through its own cache, so `cache` is not consulted. A SigV2
   * request (`signatureVersion` 2) is always verified inline by `verifySignatureV2` (one HMAC-SHA1 of a short
   * string, no key to derive: less than a hand-off costs); its `signingKey` is empty.
   */
  verifyRequest(
    auth: AuthenticatedRequest,
    secret: string,
    cache: SigningKeyCache,
    options?: VerifySignatureOptions,
  ): VerifiedRequest | Promise<VerifiedRequest>;
  /**
   * The verifier of one request body (sigv4's `createChunkedDecoder` / `createPayloadVerifier` options), with
   * `bodyBytes` its declared decoded length. Throws like sigv4 before any byte when a header is malformed
   * (the options are always checked here, on the event loop). Returns sigv4's inline verifier, or a
   * `PooledBodyVerifier` (`pooled: true`) whose verdicts come back from a thread.
   */
  createBodyVerifier(spec: BodyVerifierSpec, bodyBytes: number): BodyVerifier | PooledBodyVerifier;
  /** Tasks waiting in the threads' queues now (0 inline). */
  readonly queueLength: number;
  /**
   * New work runs inline from now on; resolves once every pooled body being streamed settled (ended, failed
   * or destroyed: call it once the server drained its requests) and the threads stopped. A pooled body never
   * written to is destroyed. Idempotent.
   */
  close(): Promise<void>;
}

/** Creates the pool of this process; threads start at once (none in inline mode). */
export function createVerifyPool(options: VerifyOptions): VerifyPool {
  return new ThreadedVerifyPool(options);
}

/** `createVerifyPool` with another thread module (the typed boundary tests replace; not exported by index). */
export function createVerifyPoolWithWorker(options: VerifyOptions, workerFile: string): VerifyPool {
  return new ThreadedVerifyPool(options, workerFile);
}

/**
 * A partial batch is sent this long after its first bytes: a slow client's bytes reach the upstream within
 * 20 ms, for at most 50 tasks a second (~2 ms of event loop) however slowly they come; a client at ≥ 50 MiB/s
 * fills its 1 MiB batches first.
 */
const FLUSH_DELAY_MS = 20;

let nextSession = 1;

/** The signing key of a SigV2 request: none (SigV2 signs no aws-chunked body, so nothing reads it). */
const NO_KEY = Buffer.alloc(0);

class ThreadedVerifyPool implements VerifyPool {
  readonly mode: VerifyMode;
  readonly threads: number;
  readonly #options: ReturnType<typeof resolveVerifyOptions>;
  readonly #lanes: WorkerLanes | null;
  /** Queue entries a body holds on its lane: its task limit + 1 to close it. */
  readonly #tasksPerBody: number;
  readonly #maxTasksPerBody: number;
  /** Pooled bodies not settled yet (they hold queue reservations; close() waits for the started ones). */
  readonly #openBodies = new Set<PooledBody>();
  #bodiesSettled: (() => void) | null = null;
  #closed: Promise<void> | null = null;

  constructor(options: VerifyOptions, workerFile?: string) {
    this.#options = resolveVerifyOptions(options);
    this.mode = this.#options.mode;
    this.threads = this.#options.threads;
    this.#lanes =
      this.threads === 0 ? null : new WorkerLanes(this.threads, this.#options.maxQueue, workerFile);
    this.#maxTasksPerBody = Math.ceil(this.#options.windowBytes / this.#options.batchBytes);
    this.#tasksPerBody = this.#maxTasksPerBody + 1;
  }

  get queueLength(): number {
    return this.#lanes?.queueLength ?? 0;
  }

  verifyRequest(
    auth: AuthenticatedRequest,
    secret: string,
    cache: SigningKeyCache,
    options?: VerifySignatureOptions,
  ): VerifiedRequest | Promise<VerifiedRequest> {
    if (auth.signatureVersion === 2) return { failure: verifySignatureV2(auth, secret), signingKey: NO_KEY };
    const lanes = this.#lanes;
    const lane = this.mode === "pool" && lanes !== null ? lanes.pickLane(1) : -1;
    if (lane < 0) return verifyInline(auth, secret, cache, options);
    // Only what verifySignature reads crosses: the facts may be the HTTP layer's request object.
    const { method, rawPath, rawQuery, headers } = auth.facts;
    const task = {
      auth: { ...auth, facts: { method, rawPath, rawQuery, headers } },
      secret,
      options: options ?? {},
    };
    // Whatever goes wrong with the hand-off (thread died, pool closing), the verdict is computed inline; the
    // failure goes out on osp:verify:fallback, which @osp/server logs (log-channels.ts).
    return lanes!
      .run<RequestResult>(lane, "verifyRequest", task)
      .then((result) => ({
        failure: result.failure === null ? null : S3Error.fromData(result.failure),
        signingKey: Buffer.from(
          result.signingKey.buffer,
          result.signingKey.byteOffset,
          result.signingKey.byteLength,
        ),
      }))
      .catch((error: unknown) => {
        if (verifyFallbackChannel.hasSubscribers) {
          const event: VerifyFallbackEvent = { error: errorMessage(error) };
          verifyFallbackChannel.publish(event);
        }
        return verifyInline(auth, secret, cache, options);
      });
  }

  createBodyVerifier(spec: BodyVerifierSpec, bodyBytes: number): BodyVerifier | PooledBodyVerifier {
    const inline =
      spec.kind === "chunked" ? createChunkedDecoder(spec.options) : createPayloadVerifier(spec.options);
    const lanes = this.#lanes;
    if (lanes === null || !this.#worthPooling(spec, bodyBytes)) return inline;
    const lane = lanes.pickLane(this.#tasksPerBody);
    if (lane < 0) return inline;
    lanes.reserve(lane, this.#tasksPerBody);
    const body: PooledBody = new PooledBody(lanes, lane, nextSession++, spec, {
      batchBytes: this.#options.batchBytes,
      windowBytes: this.#options.windowBytes,
      maxTasks: this.#maxTasksPerBody,
      flushDelayMs: FLUSH_DELAY_MS,
      onSettled: () => {
        lanes.reserve(lane, -this.#tasksPerBody);
        this.#openBodies.delete(body);
        if (this.#openBodies.size === 0) this.#bodiesSettled?.();
      },
    });
    this.#openBodies.add(body);
    return body;
  }

  /** Only signed hashing is offloaded: CRC-only and unsigned bodies cost less than a hand-off. */
  #worthPooling(spec: BodyVerifierSpec, bodyBytes: number): boolean {
    if (this.mode === "inline" || bodyBytes <= 0) return false;
    const signedHash =
      spec.kind === "chunked"
        ? spec.options.mode !== "streaming-unsigned-trailer"
        : spec.options.sha256Hex !== undefined;
    if (!signedHash) return false;
    return this.mode === "pool" || bodyBytes >= this.#options.autoMinBodyBytes;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const lanes = this.#lanes;
    if (lanes === null) return;
    // A body nobody ever wrote to (its request failed before streaming) would hold close() forever.
    for (const body of [...this.#openBodies]) if (!body.started) body.destroy();
    const settled =
      this.#openBodies.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#bodiesSettled = resolve;
          });
    await lanes.close(settled);
  }
}

function verifyInline(
  auth: AuthenticatedRequest,
  secret: string,
  cache: SigningKeyCache,
  options: VerifySignatureOptions | undefined,
): VerifiedRequest {
  const signingKey = cache.get(secret, auth.scope);
  return { failure: verifySignature(auth, signingKey, options), signingKey };
}
