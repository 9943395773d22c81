// The public API, one sorted list (biome's organizeImports keeps exports in path order):
// - chunked/, checksum/, payload/: aws-chunked decoding, flexible checksums, plain-body checks
//   (docs/s3-sigv4.md "aws-chunked", "Checksums")
// - *-v2: SigV2 (HMAC-SHA1), only with `AuthOptions.sigV2` (docs/s3-sigv4.md "SigV2")
// - everything else: SigV4 header and presigned-URL authentication, canonicalization, signing
export { formatAmzDate, parseAmzDate, parseV2Date } from "./amz-date.js";
export { authenticateRequest, DEFAULT_AUTH_OPTIONS } from "./authenticate-request.js";
export { isSigV2Authorization, virtualHostBucket } from "./authenticate-v2.js";
export { canonicalHeaders, type HeaderList, normalizeHeaderValue } from "./canonical-headers.js";
export { canonicalQuery } from "./canonical-query.js";
export { buildCanonicalRequest, formatCanonicalRequest } from "./canonical-request.js";
export { canonicalUri } from "./canonical-uri.js";
export {
  CHECKSUM_ALGORITHMS,
  type Checksum,
  checkChecksumValue,
  checksumAlgorithmOfHeader,
  checksumHeaderName,
  createChecksum,
} from "./checksum/create-checksum.js";
export {
  type ChunkSigning,
  chunkStringToSign,
  signStringToSign,
  trailerStringToSign,
} from "./chunked/chunk-signature.js";
export { createChunkedDecodeStream } from "./chunked/create-chunked-decode-stream.js";
export {
  type ChunkedDecoder,
  type ChunkedDecoderOptions,
  type ChunkedMode,
  createChunkedDecoder,
} from "./chunked/create-chunked-decoder.js";
export { type EncodeAwsChunkedOptions, encodeAwsChunked } from "./chunked/encode-aws-chunked.js";
export { deriveSigningKey } from "./derive-signing-key.js";
export {
  MAX_AUTHORIZATION_CHARS,
  type ParsedAuthorization,
  parseAuthorizationHeader,
} from "./parse-authorization-header.js";
export { parsePayloadMode } from "./parse-payload-mode.js";
export {
  MAX_PRESIGN_EXPIRES_SECONDS,
  type ParsedPresign,
  parsePresignedQuery,
} from "./parse-presigned-query.js";
export type { BodyVerifier } from "./payload/body-verifier.js";
export { parseContentMd5 } from "./payload/content-md5.js";
export { createPayloadVerifier, type PayloadVerifierOptions } from "./payload/create-payload-verifier.js";
export { createPayloadVerifyStream } from "./payload/create-payload-verify-stream.js";
export { HELD_BACK_BYTES } from "./payload/held-back-tail.js";
export { type PresignUrlInput, presignUrl } from "./presign-url.js";
export {
  formatAuthorizationHeader,
  type SignedRequest,
  type SignRequestInput,
  signRequest,
} from "./sign-request.js";
export { SigningKeyCache } from "./signing-key-cache.js";
export { buildStringToSign, formatCredentialScope, SIGV4_ALGORITHM } from "./string-to-sign.js";
export {
  buildStringToSignV2,
  canonicalizedAmzHeaders,
  canonicalizedResource,
  type RawQueryParam,
  type StringToSignV2Parts,
  signStringV2,
  splitRawQuery,
  V2_SUBRESOURCES,
} from "./string-to-sign-v2.js";
export type {
  AuthenticatedRequest,
  AuthOptions,
  ChecksumAlgorithm,
  CredentialScope,
  PayloadMode,
  RequestFacts,
} from "./types.js";
export { uriEncode } from "./uri-encode.js";
export { verifySignature } from "./verify-signature.js";
export { verifySignatureV2 } from "./verify-signature-v2.js";
