/**
 * The pool thread's side (piscina's `filename`; one export per task name). Every check here is sigv4's
 * own code, the very verifiers the inline mode runs, so both modes give the same verdicts by construction:
 * this file only moves bytes and verdicts across the thread boundary.
 *
 * Each thread is its own piscina lane (one thread, one ordered queue: `worker-lanes.ts`), so a body's
 * verifier lives here between its tasks, keyed by session id, and sees its pieces in order.
 */
import {
  type BodyVerifier,
  createChunkedDecoder,
  createPayloadVerifier,
  SigningKeyCache,
  verifySignature,
} from "@osp/sigv4";
import { S3Error, type S3ErrorData } from "./s3-error.js";
import type {
  BodyResult,
  BodyTask,
  BodyVerifierSpec,
  CloseTask,
  RequestResult,
  RequestTask,
  TimedResult,
} from "./verify-tasks.js";

/** This thread's signing keys: a miss derives here, off the event loop. */
const keys = new SigningKeyCache();
const sessions = new Map<number, BodyVerifier>();

/**
 * Bodies arrive as copies (pooled-body-verifier.ts) whose memory V8 frees only when this thread collects
 * them, and the thread allocates too little for its young generation to fill: a minor GC after every 8 MiB
 * received keeps a 1 GiB upload from piling up here (needs `--expose-gc`, which `osp serve` gives its workers;
 * flags hold for every thread of the process).
 */
const GC_EVERY_BYTES = 8 * 1024 * 1024;
const gc = (globalThis as { gc?: (options: { type: "minor" }) => void }).gc ?? null;
let receivedSinceGc = 0;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function toData(error: unknown): S3ErrorData {
  if (error instanceof S3Error) return error.toData();
  return {
    code: "InternalError",
    message: "Body verification failed.",
    fields: [],
    source: "internal",
    headers: [],
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function createVerifier(spec: BodyVerifierSpec): BodyVerifier {
  if (spec.kind === "payload") return createPayloadVerifier(spec.options);
  const { signing } = spec.options;
  // The key arrives as a plain Uint8Array (structured clone drops Buffer's prototype).
  return createChunkedDecoder({
    ...spec.options,
    signing: signing === null ? null : { ...signing, signingKey: asBuffer(signing.signingKey) },
  });
}

/** Derives (through this thread's cache) and checks a header or presigned signature. */
export function verifyRequest(task: RequestTask): RequestResult {
  const startedAtMs = now();
  const signingKey = keys.get(task.secret, task.auth.scope);
  const failure = verifySignature(task.auth, signingKey, task.options);
  // The cached key is copied by the structured clone, never transferred (that would detach it here).
  return { startedAtMs, failure: failure === null ? null : failure.toData(), signingKey };
}

/** Feeds pieces of one body to its verifier; returns what may be forwarded, as ranges of the pieces. */
export function verifyBody(task: BodyTask): BodyResult {
  const startedAtMs = now();
  const { pieces, session } = task;
  const emits: number[] = [];
  const extras: Uint8Array[] = [];
  let index = -1;
  let view: Buffer | null = null;
  const record = (data: Buffer): void => {
    if (data.length === 0) return;
    if (view !== null && data.buffer === view.buffer) {
      const start = data.byteOffset - view.byteOffset;
      emits.push(index, start, start + data.length);
      return;
    }
    extras.push(new Uint8Array(data));
    emits.push(pieces.length + extras.length - 1, 0, data.length);
  };
  let failure: S3ErrorData | null = null;
  let verifier = sessions.get(session);
  try {
    if (task.open !== null) {
      verifier = createVerifier(task.open);
      sessions.set(session, verifier);
    }
    if (verifier === undefined) throw new Error(`verify session ${session} is unknown to this thread`);
    for (index = 0; index < pieces.length; index++) {
      view = asBuffer(pieces[index]!);
      verifier.write(view, record);
    }
    view = null;
    if (task.end) {
      sessions.delete(session);
      verifier.end(record);
    }
  } catch (error) {
    sessions.delete(session);
    failure = toData(error);
  }
  if (gc !== null) {
    for (const piece of pieces) receivedSinceGc += piece.byteLength;
    if (receivedSinceGc >= GC_EVERY_BYTES) {
      receivedSinceGc = 0;
      gc({ type: "minor" });
    }
  }
  const result: BodyResult = {
    startedAtMs,
    failure,
    emits: failure === null ? emits : [],
    extras: failure === null ? extras : [],
    decodedBytes: verifier?.decodedBytes ?? 0,
    complete: verifier?.complete ?? false,
    trailers: task.end && verifier !== undefined && "trailers" in verifier ? trailersOf(verifier) : [],
  };
  return result;
}

function trailersOf(verifier: BodyVerifier): ReadonlyArray<readonly [string, string]> {
  return (verifier as BodyVerifier & { trailers: ReadonlyArray<readonly [string, string]> }).trailers;
}

/** Forgets a body that will not be ended. */
export function closeBody(task: CloseTask): TimedResult {
  sessions.delete(task.session);
  return { startedAtMs: now() };
}
