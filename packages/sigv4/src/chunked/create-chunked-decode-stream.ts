import type { Transform } from "node:stream";
import { createVerifyTransform } from "../payload/create-verify-transform.js";
import {
  type ChunkedDecoder,
  type ChunkedDecoderOptions,
  createChunkedDecoder,
} from "./create-chunked-decoder.js";

/**
 * `createChunkedDecoder` as a Node Transform (aws-chunked bytes in, decoded payload out); the decoder, and so
 * the received `trailers`, is exposed as `.verifier`. Options are validated here, synchronously.
 */
export function createChunkedDecodeStream(
  options: ChunkedDecoderOptions,
): Transform & { readonly verifier: ChunkedDecoder } {
  return createVerifyTransform(createChunkedDecoder(options));
}
