/**
 * What bench/pool feeds the verify pool: signed small requests (a cached key, and a key missed every time)
 * and signed bodies (aws-chunked with 64 KiB chunks, as the AWS SDKs send them, and a plain body with a hex
 * `x-amz-content-sha256`), delivered in network-sized pieces copied into fresh buffers as the HTTP layer
 * hands them over (`http-exchange.ts` copies each uWS read).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  type AuthenticatedRequest,
  authenticateRequest,
  type BodyVerifier,
  deriveSigningKey,
  encodeAwsChunked,
} from "@osp/sigv4";
import type { BodyVerifierSpec, PooledBodyVerifier, VerifyPool } from "@osp/verify";
import { NOW_MS, REGION, SECRET, sdkGetObject } from "../common/sdk-request.js";

export { NOW_MS, SECRET };
/** One network read: what uWS hands over per data callback on a busy connection. */
export const PIECE_BYTES = 64 * 1024;
const CHUNK_BYTES = 64 * 1024;

/** A signed request as the gateway holds it after `authenticateRequest`, with the secret it was signed with. */
export interface SignedSmallRequest {
  readonly auth: AuthenticatedRequest;
  readonly secret: string;
}

/** A GetObject as the AWS SDK for JS v3 signs it (5 signed headers), authenticated. */
export function smallRequest(secret = SECRET): SignedSmallRequest {
  const auth = authenticateRequest(sdkGetObject(secret), { nowMs: NOW_MS });
  if (auth === null || !("mechanism" in auth)) throw new Error("bench request did not authenticate");
  return { auth, secret };
}

/** `count` requests, each signed with a secret of its own: every verification misses the key cache. */
export function missRequests(count: number): SignedSmallRequest[] {
  const requests: SignedSmallRequest[] = [];
  for (let i = 0; i < count; i++)
    requests.push(smallRequest(`${SECRET.slice(0, 30)}${String(i).padStart(10, "0")}`));
  return requests;
}

/** One signed body: the bytes on the wire and the verifier spec the gateway's body plan would build. */
export interface SignedBody {
  readonly name: string;
  readonly wire: Buffer;
  readonly payloadBytes: number;
  readonly spec: BodyVerifierSpec;
}

export function signedBodies(sizes: readonly number[]): SignedBody[] {
  const largest = Math.max(...sizes);
  const payload = randomBytes(largest);
  const signingKey = deriveSigningKey(SECRET, "20250115", REGION, "s3");
  const scope = { date: "20250115", region: REGION, service: "s3" };
  const signing = { signingKey, amzDate: "20250115T120000Z", scope, seedSignature: "0".repeat(63) + "1" };
  const bodies: SignedBody[] = [];
  for (const size of sizes) {
    const data = payload.subarray(0, size);
    const label = size >= 1024 * 1024 ? `${size / (1024 * 1024)} MiB` : `${size / 1024} KiB`;
    bodies.push({
      name: `${label} chunked`,
      wire: encodeAwsChunked(data, { chunkBytes: CHUNK_BYTES, mode: "streaming-signed", signing }),
      payloadBytes: size,
      spec: {
        kind: "chunked",
        options: { mode: "streaming-signed", decodedContentLength: size, signing, announcedTrailers: [] },
      },
    });
    bodies.push({
      name: `${label} hex`,
      wire: data,
      payloadBytes: size,
      spec: {
        kind: "payload",
        options: { sha256Hex: createHash("sha256").update(data).digest("hex"), expectedLength: size },
      },
    });
  }
  return bodies;
}

/**
 * Streams `body` through a verifier of `pool` one piece per event-loop turn (each a fresh copy, as the
 * HTTP layer makes), honouring a pooled verifier's backpressure; resolves once the verdict passed and every
 * payload byte was emitted. Rejects on any verdict. `bytesPerSecond` > 0 paces the pieces as a client link
 * of that speed would (0: as fast as the loop takes them).
 */
export function upload(pool: VerifyPool, body: SignedBody, bytesPerSecond = 0): Promise<void> {
  const verifier = pool.createBodyVerifier(body.spec, body.payloadBytes);
  const pooled = "pooled" in verifier ? (verifier as PooledBodyVerifier) : null;
  const inline = pooled === null ? (verifier as BodyVerifier) : null;
  let emitted = 0;
  const emit = (data: Buffer): void => {
    emitted += data.length;
  };
  const wire = body.wire;
  let offset = 0;
  const startedMs = performance.now();
  return new Promise<void>((resolve, reject) => {
    const next = (): void => {
      const waitMs =
        bytesPerSecond > 0 ? startedMs + (offset / bytesPerSecond) * 1000 - performance.now() : 0;
      if (waitMs >= 1) setTimeout(step, waitMs);
      else setImmediate(step);
    };
    const check = (): void => {
      if (emitted === body.payloadBytes) resolve();
      else reject(new Error(`${body.name}: emitted ${emitted} of ${body.payloadBytes} bytes`));
    };
    const step = (): void => {
      try {
        if (offset >= wire.length) {
          if (pooled !== null) pooled.end(emit).then(check, reject);
          else {
            inline!.end(emit);
            check();
          }
          return;
        }
        const n = Math.min(PIECE_BYTES, wire.length - offset);
        const piece = Buffer.allocUnsafe(n);
        wire.copy(piece, 0, offset, offset + n);
        offset += n;
        if (pooled !== null && !pooled.write(piece, emit)) {
          pooled.onDrain(next);
          return;
        }
        if (pooled === null) verifier.write(piece, emit);
        next();
      } catch (error) {
        reject(error);
      }
    };
    setImmediate(step);
  });
}
