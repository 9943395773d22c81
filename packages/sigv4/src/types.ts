/**
 * Shapes shared by every part of the SigV4 package. The gateway copies these facts out of the HTTP request
 * before its first `await`; everything in this package is a pure function of them.
 */

/** One HTTP request as received, before any normalisation. */
export interface RequestFacts {
  /** Upper-case method as received (`GET`, `PUT`, …). */
  readonly method: string;
  /** The request-target path as received, still percent-encoded, without the query (`/bucket/a%20b`). */
  readonly rawPath: string;
  /** Everything after the first `?`, as received (no leading `?`); `""` when there is none. */
  readonly rawQuery: string;
  /** Every header as received: lower-case name, raw value, received order, duplicates kept. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The credential scope `<date>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  /** `yyyymmdd` */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** What `x-amz-content-sha256` (or the presign rules) says about the body. */
export type PayloadMode =
  | { readonly kind: "unsigned" } // UNSIGNED-PAYLOAD (and every presigned request)
  | { readonly kind: "sha256"; readonly sha256Hex: string } // hex digest of the whole body, lower-case
  | { readonly kind: "streaming-signed" } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  | { readonly kind: "streaming-signed-trailer" } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  | { readonly kind: "streaming-unsigned-trailer" }; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

/** Checksum algorithms of S3's flexible checksums (docs/s3-sigv4.md "Checksums"). */
export type ChecksumAlgorithm = "CRC32" | "CRC32C" | "CRC64NVME" | "SHA1" | "SHA256";

/** Options of request authentication; all have defaults (see `DEFAULT_AUTH_OPTIONS`). */
export interface AuthOptions {
  /** Current time in ms since the epoch (injected so tests and callers control the clock). */
  readonly nowMs: number;
  /** Allowed |request time − now|, default 15 min (900 000 ms). */
  readonly maxSkewMs: number;
  /** Treat a raw `+` in the path as a space, as S3 does (default true); false = literal `+` (MinIO). */
  readonly plusInPathIsSpace: boolean;
  /** Regions accepted in the scope; `null` accepts any (IBM COS semantics, the default). */
  readonly allowedRegions: ReadonlySet<string> | null;
  /** Service name expected in the scope, default `s3`. */
  readonly service: string;
  /** Longest accepted presign lifetime in seconds, default 604 800 (7 days); SigV2 `Expires` counts from now. */
  readonly maxPresignExpiresSeconds: number;
  /**
   * Accept AWS Signature Version 2 (HMAC-SHA1: `Authorization: AWS AKID:sig`, `AWSAccessKeyId`/`Expires`/
   * `Signature` query), default false: refused with 400 InvalidRequest as SigV4-only S3 regions do
   * (docs/s3-sigv4.md "SigV2"). Weaker than SigV4: SHA-1, no signed Host, no signed body, no signed query but
   * the sub-resources.
   */
  readonly sigV2: boolean;
  /**
   * `addressing.virtualHostDomains`: SigV2 signs `/bucket` even when the bucket is in the Host, so the
   * bucket is found here the way @osp/s3's `resolveTarget` finds it. Only SigV2 reads it.
   */
  readonly virtualHostDomains: readonly string[];
}

/**
 * What `authenticateRequest` established about a signed request: the parsed credential and signature plus
 * the canonical parts it already computed, so `verifySignature` (and the aws-chunked decoder, which seeds
 * its chunk chain with `signature`) need not parse anything again. The access key is not yet looked up.
 */
export interface AuthenticatedRequest {
  /** `header`: the `Authorization` header; `presigned`: query-string authentication (a presigned URL). */
  readonly mechanism: "header" | "presigned";
  /**
   * 4, or 2 for SigV2 (only with `AuthOptions.sigV2`). A SigV2 request has no scope, signed header list,
   * canonical request or signing key: `scope` is empty, `signedHeaders` `[]`, `canonicalUri`/`canonicalQuery`
   * `""`, `payloadHash` `UNSIGNED-PAYLOAD`, and `stringToSignV2` holds what `verifySignatureV2` HMACs.
   */
  readonly signatureVersion: 2 | 4;
  readonly accessKeyId: string;
  readonly scope: CredentialScope;
  /**
   * The request time as it enters the string to sign, `yyyyMMdd'T'HHmmss'Z'` (docs/s3-sigv4.md "String to
   * sign and signing key").
   */
  readonly amzDate: string;
  /** The same instant in ms since the epoch. */
  readonly requestTimeMs: number;
  /** Lower-case names from `SignedHeaders` / `X-Amz-SignedHeaders`, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  /** The signature the client sent (64 lower-case hex when well formed). */
  readonly signature: string;
  readonly payload: PayloadMode;
  /** `X-Amz-Expires` of a presigned request; `null` for header auth. */
  readonly presignExpiresSeconds: number | null;
  /** `x-amz-security-token` (header auth) or `X-Amz-Security-Token` (presigned); `null` when absent. */
  readonly securityToken: string | null;
  readonly facts: RequestFacts;
  /**
   * Canonical URI of `facts.rawPath` under the `plusInPathIsSpace` rule in force (docs/s3-sigv4.md "Canonical
   * URI").
   */
  readonly canonicalUri: string;
  /** Canonical query string (presigned: without `X-Amz-Signature`). */
  readonly canonicalQuery: string;
  /** Last line of the canonical request: the `x-amz-content-sha256` value, or `UNSIGNED-PAYLOAD` (presigned). */
  readonly payloadHash: string;
  /** SigV2's StringToSign (docs/s3-sigv4.md "SigV2"), built by `authenticateRequest`; `null` for SigV4. */
  readonly stringToSignV2: string | null;
}
