/**
 * The aws-chunked encoder (docs/s3-sigv4.md "aws-chunked"), the mirror of the decoder: for tests, benches and
 * the gateway's own tests. Builds the whole body in memory; not meant for the request path.
 */
import { createHash } from "node:crypto";
import { type ChunkSigning, signStringToSign, trailerStringToSign } from "./chunk-signature.js";
import { ChunkSignatureChain, EMPTY_SHA256 } from "./chunk-signature-chain.js";
import type { ChunkedMode } from "./create-chunked-decoder.js";

export interface EncodeAwsChunkedOptions {
  /** Data bytes per chunk (the last data chunk may be shorter); ≥ 1. */
  readonly chunkBytes: number;
  readonly mode: ChunkedMode;
  /** Required for signed modes: the seed signature starts the chain. */
  readonly signing?: ChunkSigning;
  /** Trailers to send after the terminal chunk (e.g. computed checksums); not allowed in streaming-signed. */
  readonly trailers?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Encodes `data` as an aws-chunked body: `hex-size[;chunk-signature=…]\r\n<data>\r\n` per chunk, the terminal
 * 0-chunk (signed too), the trailers as `name:value\r\n`, `x-amz-trailer-signature` in signed-trailer mode,
 * and the final `\r\n`. Throws TypeError on options that cannot be encoded.
 */
export function encodeAwsChunked(data: Buffer, options: EncodeAwsChunkedOptions): Buffer {
  const { chunkBytes, mode } = options;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new TypeError("chunkBytes must be ≥ 1");
  const signed = mode !== "streaming-unsigned-trailer";
  const signing = options.signing;
  if (signed && signing === undefined) throw new TypeError(`aws-chunked mode ${mode} needs signing`);
  const trailers = options.trailers ?? [];
  if (mode === "streaming-signed" && trailers.length > 0)
    throw new TypeError("streaming-signed has no trailers");

  const parts: Buffer[] = [];
  const chain =
    signed && signing !== undefined
      ? new ChunkSignatureChain(signing.signingKey, signing.amzDate, signing.scope, signing.seedSignature)
      : null;
  const header = (size: number, dataSha256: Uint8Array | null): string => {
    if (chain === null || dataSha256 === null) return `${size.toString(16)}\r\n`;
    const signature = chain.next(dataSha256);
    chain.accept(signature);
    return `${size.toString(16)};chunk-signature=${signature.toString("hex")}\r\n`;
  };
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    const chunk = data.subarray(offset, Math.min(offset + chunkBytes, data.length));
    const dataHash = chain === null ? null : createHash("sha256").update(chunk).digest();
    parts.push(Buffer.from(header(chunk.length, dataHash), "latin1"), chunk, CRLF);
  }
  let tail = header(0, EMPTY_SHA256);
  let signedText = "";
  for (const [name, value] of trailers) {
    tail += `${name}:${value}\r\n`;
    signedText += `${name}:${value}\n`;
  }
  if (mode === "streaming-signed-trailer" && signing !== undefined && chain !== null) {
    const textHash = createHash("sha256").update(signedText, "latin1").digest("hex");
    const stringToSign = trailerStringToSign(
      signing.amzDate,
      signing.scope,
      chain.previousSignatureHex,
      textHash,
    );
    tail += `x-amz-trailer-signature:${signStringToSign(signing.signingKey, stringToSign)}\r\n`;
  }
  parts.push(Buffer.from(`${tail}\r\n`, "latin1"));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from("\r\n", "latin1");
