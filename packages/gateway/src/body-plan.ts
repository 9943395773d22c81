/**
 * How a request body travels: its length upstream and the verifier it streams through. Decided from the
 * headers before the first body byte is read (protocol.md §1.6, §3.1, §3.6, §8).
 */
import { S3Error } from "@osp/errors";
import {
  type AuthenticatedRequest,
  type BodyVerifier,
  type ChecksumAlgorithm,
  createChunkedDecoder,
  createPayloadVerifier,
} from "@osp/sigv4";
import { headerValue } from "./forward-headers.js";

export interface BodyPlan {
  /** Bytes sent upstream (`Content-Length`); 0 = no body. */
  readonly upstreamLength: number;
  /** Whether the client sends body bytes at all (aws-chunked framing of an empty object counts). */
  readonly clientSendsBody: boolean;
  /** Checks and decodes the client's bytes; `null` = bytes pass unchanged. */
  readonly verifier: BodyVerifier | null;
  /** SHA-256 of the upstream body when known before it is sent (hex), for re-signing. */
  readonly sha256Hex: string | null;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const CHECKSUM_HEADERS: ReadonlyArray<readonly [string, ChecksumAlgorithm]> = [
  ["x-amz-checksum-crc32", "CRC32"],
  ["x-amz-checksum-crc32c", "CRC32C"],
  ["x-amz-checksum-crc64nvme", "CRC64NVME"],
  ["x-amz-checksum-sha1", "SHA1"],
  ["x-amz-checksum-sha256", "SHA256"],
];
const MAX_OBJECT_BYTES = 5 * 1024 ** 3; // S3's single-PUT limit

/** Throws S3Error when the framing headers are unacceptable. */
export function planBody(
  auth: AuthenticatedRequest,
  signingKey: Buffer,
  options: { readonly minChunkBytes: number },
): BodyPlan {
  const headers = auth.facts.headers;
  const payload = auth.payload;
  const contentLength = parseLength(headerValue(headers, "content-length"), "Content-Length");
  const transferEncoding = headerValue(headers, "transfer-encoding");

  if (
    payload.kind === "streaming-signed" ||
    payload.kind === "streaming-signed-trailer" ||
    payload.kind === "streaming-unsigned-trailer"
  ) {
    const decoded = parseLength(
      headerValue(headers, "x-amz-decoded-content-length"),
      "x-amz-decoded-content-length",
    );
    if (decoded === null) throw new S3Error("MissingContentLength");
    const announced = (headerValue(headers, "x-amz-trailer") ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== "");
    const verifier = createChunkedDecoder({
      mode: payload.kind,
      decodedContentLength: decoded,
      signing:
        payload.kind === "streaming-unsigned-trailer"
          ? null
          : { signingKey, amzDate: auth.amzDate, scope: auth.scope, seedSignature: auth.signature },
      announcedTrailers: announced,
      minChunkBytes: options.minChunkBytes,
    });
    return {
      upstreamLength: decoded,
      clientSendsBody: true,
      verifier,
      sha256Hex: decoded === 0 ? EMPTY_SHA256 : null,
    };
  }

  if (transferEncoding !== null && transferEncoding.toLowerCase() !== "identity") {
    // Plain chunked uploads have no length to give S3 (protocol.md §1.8 NotImplemented).
    throw new S3Error("NotImplemented", undefined, { fields: [["Header", "Transfer-Encoding"]] });
  }
  const length = contentLength ?? 0;
  if (length > MAX_OBJECT_BYTES) throw new S3Error("EntityTooLarge");

  const contentMd5 = headerValue(headers, "content-md5");
  const checksums: Array<{ algorithm: ChecksumAlgorithm; base64: string }> = [];
  for (const [name, algorithm] of CHECKSUM_HEADERS) {
    const value = headerValue(headers, name);
    if (value !== null) checksums.push({ algorithm, base64: value });
  }
  const sha256Hex = payload.kind === "sha256" ? payload.sha256Hex : null;
  const needsVerifier = sha256Hex !== null || contentMd5 !== null || checksums.length > 0;
  const verifier = needsVerifier
    ? createPayloadVerifier({
        ...(sha256Hex === null ? {} : { sha256Hex }),
        ...(contentMd5 === null ? {} : { contentMd5Base64: contentMd5 }),
        checksums,
        expectedLength: length,
      })
    : null;
  return {
    upstreamLength: length,
    clientSendsBody: length > 0,
    verifier,
    sha256Hex: sha256Hex ?? (length === 0 ? EMPTY_SHA256 : null),
  };
}

function parseLength(value: string | null, name: string): number | null {
  if (value === null) return null;
  if (!/^\d{1,16}$/.test(value.trim())) {
    throw new S3Error("InvalidArgument", `${name} must be a non-negative integer.`, {
      fields: [
        ["ArgumentName", name],
        ["ArgumentValue", value],
      ],
    });
  }
  return Number(value.trim());
}
