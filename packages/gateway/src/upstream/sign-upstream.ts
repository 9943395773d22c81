/**
 * How osp proves itself to an endpoint: a fresh SigV4 signature with the endpoint's HMAC keys (AWS S3 API
 * reference, "Authenticating Requests (AWS Signature Version 4)"), or an IBM IAM bearer token (IBM Cloud
 * Object Storage docs, "Authenticating with IAM"). The client's own signature never travels upstream.
 */
import { type SigningKeyCache, signRequest } from "@osp/sigv4";
import type { IamTokens } from "./iam-tokens.js";

/** The credentials osp uses toward an endpoint: its own HMAC keys, or an IAM token source. */
export type UpstreamAuth =
  | {
      readonly type: "hmac";
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly region: string;
    }
  | { readonly type: "iam"; readonly tokens: IamTokens };

/**
 * Adds the upstream authentication headers to `headers` (in place) and returns the IAM bearer token used
 * (`null` for HMAC), so a 401/403 from the store can invalidate it. `sha256Hex` is the body's hash when
 * known before sending; otherwise the body is sent as UNSIGNED-PAYLOAD (S3 accepts it over HTTP and
 * HTTPS; the client's body was already verified by osp).
 */
export async function signUpstream(
  auth: UpstreamAuth,
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: Array<[string, string]>,
  sha256Hex: string | null,
  signingKeys: SigningKeyCache,
): Promise<string | null> {
  if (auth.type === "iam") {
    const token = await auth.tokens.getToken();
    headers.push(["authorization", `Bearer ${token}`]);
    return token;
  }
  const payloadHash = sha256Hex ?? "UNSIGNED-PAYLOAD";
  const nowMs = Date.now();
  const signed = signRequest({
    method,
    rawPath,
    rawQuery,
    headers,
    payloadHash,
    accessKeyId: auth.accessKeyId,
    secretAccessKey: auth.secretAccessKey,
    signingKeyCache: signingKeys,
    region: auth.region,
    nowMs,
  });
  for (const header of signed.headersToAdd) headers.push([header[0], header[1]]);
  return null;
}
