/**
 * The signed request the micro and pool benchmarks verify: a GetObject as the AWS SDK for JS v3 sends it,
 * 5 signed headers (host, if-none-match, range, x-amz-content-sha256, x-amz-date), 4 unsigned ones
 * (user-agent, amz-sdk-*, accept), `x-id` in the query, signed at a fixed instant.
 */
import { type RequestFacts, signRequest } from "@osp/sigv4";

export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
export const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const REGION = "us-east-1";
export const HOST = "examplebucket.s3.eu-de.example.com";
export const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);

export function sdkGetObject(secret = SECRET, key = "photos/2025/01/cat%20picture.jpg"): RequestFacts {
  const rawPath = `/examplebucket/${key}`;
  const rawQuery = "x-id=GetObject";
  const headers: Array<readonly [string, string]> = [
    ["host", HOST],
    ["range", "bytes=0-1048575"],
    ["if-none-match", '"9b2cf535f27731c974343645a3985328"'],
  ];
  const signed = signRequest({
    method: "GET",
    rawPath,
    rawQuery,
    headers,
    payloadHash: "UNSIGNED-PAYLOAD",
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: secret,
    region: REGION,
    nowMs: NOW_MS,
  });
  return {
    method: "GET",
    rawPath,
    rawQuery,
    headers: [
      ...headers,
      ...signed.headersToAdd,
      ["user-agent", "aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/s3#3.700.0"],
      ["amz-sdk-invocation-id", "0f6c7c1e-3a3b-4a8a-9b8e-6b1f0c7d2e11"],
      ["amz-sdk-request", "attempt=1; max=3"],
      ["accept", "*/*"],
    ],
  };
}
