/**
 * How a request body travels: its length upstream and the verifier it streams through. Decided from the
 * headers before the first body byte is read (AWS S3 API reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in Multiple Chunks" and "Common Request Headers"). With a verify
 * pool, the pool decides whether the body's checks run inline or on one of its threads.
 */
import { S3Error } from "@osp/errors";
import {
  type AuthenticatedRequest,
  type BodyVerifier,
  type ChecksumAlgorithm,
  type ChunkedDecoderOptions,
  createChunkedDecoder,
  createPayloadVerifier,
  type PayloadVerifierOptions,
} from "@osp/sigv4";
import type { PooledBodyVerifier, VerifyPool } from "@osp/verify";

export type { PooledBodyVerifier } from "@osp/verify";
/** The part of @osp/verify's `VerifyPool` the body plan uses. */
export type BodyVerifierPool = Pick<VerifyPool, "createBodyVerifier">;

export interface BodyPlan {
  /** Bytes sent upstream (`Content-Length`); 0 = no body. */
  readonly upstreamLength: number;
  /** Whether the client sends body bytes at all (aws-chunked framing of an empty object counts). */
  readonly clientSendsBody: boolean;
  /**
   * Checks and decodes the client's bytes on the event loop; `null` = bytes pass unchanged. When
   * `pooledVerifier` is set, this is a guard whose `write`/`end` throw 500 InternalError: a caller unaware of
   * the pool fails the request instead of forwarding a body nobody verified.
   */
  readonly verifier: BodyVerifier | null;
  /** Set when the body's checks run on a verify-pool thread: stream the body through it instead. */
  readonly pooledVerifier: PooledBodyVerifier | null;
  /** SHA-256 of the upstream body when known before it is sent (hex), for re-signing. */
  readonly sha256Hex: string | null;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * The plan of every request without a body (GET, HEAD, DELETE…, and every unsigned request: those may carry
 * none): nothing to verify or stream, the empty payload re-signed with the empty SHA-256. One shared object.
 */
export const NO_BODY_PLAN: BodyPlan = Object.freeze({
  upstreamLength: 0,
  clientSendsBody: false,
  verifier: null,
  pooledVerifier: null,
  sha256Hex: EMPTY_SHA256,
});
/** The flexible-checksum headers, in the order their verdicts are checked. */
const CHECKSUM_HEADERS: ReadonlyArray<readonly [string, ChecksumAlgorithm]> = [
  ["x-amz-checksum-crc32", "CRC32"],
  ["x-amz-checksum-crc32c", "CRC32C"],
  ["x-amz-checksum-crc64nvme", "CRC64NVME"],
  ["x-amz-checksum-sha1", "SHA1"],
  ["x-amz-checksum-sha256", "SHA256"],
];
const CHECKSUM_INDEX = new Map(CHECKSUM_HEADERS.map(([name], i) => [name, i]));

/** The headers that decide a body's framing and digests: the first of each name, as `headerValue` finds. */
interface FramingHeaders {
  contentLength: string | null;
  transferEncoding: string | null;
  decodedContentLength: string | null;
  trailer: string | null;
  contentMd5: string | null;
  /** Values by CHECKSUM_HEADERS index; null when no checksum header came (every GET). */
  checksums: Array<string | undefined> | null;
}

/** One pass over the request headers (this runs for every request, most of which have no body). */
function readFraming(headers: ReadonlyArray<readonly [string, string]>): FramingHeaders {
  const found: FramingHeaders = {
    contentLength: null,
    transferEncoding: null,
    decodedContentLength: null,
    trailer: null,
    contentMd5: null,
    checksums: null,
  };
  for (const [name, value] of headers) {
    switch (name) {
      case "content-length":
        found.contentLength ??= value;
        break;
      case "transfer-encoding":
        found.transferEncoding ??= value;
        break;
      case "x-amz-decoded-content-length":
        found.decodedContentLength ??= value;
        break;
      case "x-amz-trailer":
        found.trailer ??= value;
        break;
      case "content-md5":
        found.contentMd5 ??= value;
        break;
      default: {
        const index = CHECKSUM_INDEX.get(name);
        if (index === undefined) break;
        found.checksums ??= [];
        found.checksums[index] ??= value;
      }
    }
  }
  return found;
}
const MAX_OBJECT_BYTES = 5 * 1024 ** 3; // S3's single-PUT limit

/**
 * Throws S3Error when the framing headers are unacceptable. `pool` (optional): where the body's checks run
 * (`VerifyPool` of @osp/verify); without it they run inline, as before the pool existed.
 */
export function planBody(
  auth: AuthenticatedRequest,
  signingKey: Buffer,
  options: { readonly minChunkBytes: number },
  pool?: BodyVerifierPool | null,
): BodyPlan {
  const framing = readFraming(auth.facts.headers);
  const payload = auth.payload;
  const contentLength = parseLength(framing.contentLength, "Content-Length");
  const transferEncoding = framing.transferEncoding;
  const checksums: Array<{ algorithm: ChecksumAlgorithm; base64: string }> = [];
  if (framing.checksums !== null) {
    for (let i = 0; i < CHECKSUM_HEADERS.length; i++) {
      const value = framing.checksums[i];
      if (value !== undefined) checksums.push({ algorithm: CHECKSUM_HEADERS[i]![1], base64: value });
    }
  }
  const contentMd5 = framing.contentMd5;

  if (
    payload.kind === "streaming-signed" ||
    payload.kind === "streaming-signed-trailer" ||
    payload.kind === "streaming-unsigned-trailer"
  ) {
    const decoded = parseLength(framing.decodedContentLength, "x-amz-decoded-content-length");
    if (decoded === null) throw new S3Error("MissingContentLength");
    if (decoded > MAX_OBJECT_BYTES) throw new S3Error("EntityTooLarge");
    const framed = transferEncoding !== null && transferEncoding.toLowerCase() !== "identity";
    // Even an empty object has its aws-chunked framing (the terminal chunk): a request without body bytes
    // would leave the gateway waiting for a body that never comes.
    if (!framed && (contentLength ?? 0) === 0) {
      throw new S3Error("IncompleteBody", "An aws-chunked request carries at least its terminal chunk.");
    }
    const announced = (framing.trailer ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== "");
    const chunked: ChunkedDecoderOptions = {
      mode: payload.kind,
      decodedContentLength: decoded,
      signing:
        payload.kind === "streaming-unsigned-trailer"
          ? null
          : { signingKey, amzDate: auth.amzDate, scope: auth.scope, seedSignature: auth.signature },
      announcedTrailers: announced,
      minChunkBytes: options.minChunkBytes,
      declared: { ...(contentMd5 === null ? {} : { contentMd5Base64: contentMd5 }), checksums },
    };
    const verifier =
      pool == null
        ? createChunkedDecoder(chunked)
        : pool.createBodyVerifier({ kind: "chunked", options: chunked }, decoded);
    return {
      upstreamLength: decoded,
      clientSendsBody: true,
      ...verifierFields(verifier),
      sha256Hex: decoded === 0 ? EMPTY_SHA256 : null,
    };
  }

  if (transferEncoding !== null && transferEncoding.toLowerCase() !== "identity") {
    // Plain chunked uploads have no length to give S3, which answers them 501 NotImplemented (RFC 9112 §7.1).
    throw new S3Error("NotImplemented", undefined, { fields: [["Header", "Transfer-Encoding"]] });
  }
  const length = contentLength ?? 0;
  if (length > MAX_OBJECT_BYTES) throw new S3Error("EntityTooLarge");

  const sha256Hex = payload.kind === "sha256" ? payload.sha256Hex : null;
  const needsVerifier = sha256Hex !== null || contentMd5 !== null || checksums.length > 0;
  const verifierOptions = (): PayloadVerifierOptions => ({
    ...(sha256Hex === null ? {} : { sha256Hex }),
    ...(contentMd5 === null ? {} : { contentMd5Base64: contentMd5 }),
    checksums,
    expectedLength: length,
  });
  if (length === 0) {
    // No body (every GET, HEAD, DELETE): the declared digests are checked against the empty body now, and
    // nothing is left to stream. The common case, the empty SHA-256 alone, needs no verifier at all.
    const onlyEmptyHash = contentMd5 === null && checksums.length === 0 && sha256Hex === EMPTY_SHA256;
    if (needsVerifier && !onlyEmptyHash) createPayloadVerifier(verifierOptions()).end(ignoreBytes);
    return NO_BODY_PLAN;
  }
  let verifier: BodyVerifier | PooledBodyVerifier | null = null;
  if (needsVerifier) {
    const plain = verifierOptions();
    verifier =
      pool == null
        ? createPayloadVerifier(plain)
        : pool.createBodyVerifier({ kind: "payload", options: plain }, length);
  }
  return { upstreamLength: length, clientSendsBody: true, ...verifierFields(verifier), sha256Hex };
}

function ignoreBytes(): void {}

function verifierFields(
  verifier: BodyVerifier | PooledBodyVerifier | null,
): Pick<BodyPlan, "verifier" | "pooledVerifier"> {
  if (verifier === null || !("pooled" in verifier)) return { verifier, pooledVerifier: null };
  return { verifier: new OffloadedGuard(verifier), pooledVerifier: verifier };
}

/**
 * `BodyPlan.verifier` of a pooled body: refuses to verify, so that a caller streaming through `verifier`
 * alone fails the request (and frees the pooled verifier) rather than forwarding an unchecked body.
 */
class OffloadedGuard implements BodyVerifier {
  readonly decodedBytes = 0;
  readonly complete = false;
  readonly heldBackBytes = 0;
  readonly #pooled: PooledBodyVerifier;

  constructor(pooled: PooledBodyVerifier) {
    this.#pooled = pooled;
  }

  write(): void {
    this.#refuse();
  }

  end(): void {
    this.#refuse();
  }

  #refuse(): never {
    this.#pooled.destroy();
    throw new S3Error(
      "InternalError",
      "This body is verified on a pool thread: stream it through pooledVerifier.",
      {
        source: "internal",
      },
    );
  }
}

function parseLength(value: string | null, name: string): number | null {
  if (value === null) return null;
  // 15 digits: every value is a safe integer (the limits above are far smaller anyway).
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new S3Error("InvalidArgument", `${name} must be a non-negative integer.`, {
      fields: [
        ["ArgumentName", name],
        ["ArgumentValue", value],
      ],
    });
  }
  return Number(value.trim());
}
