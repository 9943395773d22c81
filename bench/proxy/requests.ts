/**
 * The requests wrk replays, signed here in Node before each round: a SigV4 signature (header or presigned)
 * stays valid for 15 minutes, so a round replays what was signed just before it. Every target of a
 * scenario gets the same request shape (the same headers, the same body), signed for its own Host.
 */
import { createHash } from "node:crypto";
import {
  deriveSigningKey,
  encodeAwsChunked,
  presignUrl,
  type SignRequestInput,
  signRequest,
} from "@osp/sigv4";
import { HOST } from "./children.js";

export type Header = readonly [string, string];

export interface BenchRequest {
  readonly path: string;
  /** Sent as given; `Host` first. wrk adds Content-Length itself (the body's length). */
  readonly headers: readonly Header[];
}

/** What one wrk run sends: one method, one body (or none), and one or more requests to cycle through. */
export interface RequestSet {
  readonly method: "GET" | "PUT";
  readonly requests: readonly BenchRequest[];
  readonly body: Buffer | null;
}

export interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export const REGION = "us-east-1";
/** The hash of an empty body, which SDKs send and sign on a GET. */
export const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

const hostOf = (port: number) => `${HOST}:${port}`;

/** Signs a request for `127.0.0.1:<port>`; returns the headers to send (`Host` first) and the signature. */
export function signedHeaders(
  method: string,
  path: string,
  port: number,
  keys: Keys,
  payloadHash: string,
  extra: readonly Header[] = [],
): { headers: Header[]; signature: string; amzDate: string } {
  const input: SignRequestInput = {
    method,
    rawPath: path,
    rawQuery: "",
    headers: [["host", hostOf(port)], ...extra],
    payloadHash,
    ...keys,
    region: REGION,
  };
  const signed = signRequest(input);
  const headers: Header[] = [["Host", hostOf(port)], ...extra, ...signed.headersToAdd];
  return { headers, signature: signed.signature, amzDate: signed.amzDate };
}

/** A GET signed in the Authorization header, as SDKs send it. */
export function signedGet(port: number, path: string, keys: Keys): RequestSet {
  return {
    method: "GET",
    requests: [{ path, headers: signedHeaders("GET", path, port, keys, EMPTY_SHA256).headers }],
    body: null,
  };
}

/** The same GET signed with each of `keys` in turn: one request per key (the cold path). */
export function signedGets(port: number, path: string, keys: readonly Keys[]): RequestSet {
  return {
    method: "GET",
    requests: keys.map((k) => ({ path, headers: signedHeaders("GET", path, port, k, EMPTY_SHA256).headers })),
    body: null,
  };
}

/** A PUT whose x-amz-content-sha256 is the body's real hash (osp verifies it while streaming). */
export function signedPut(port: number, path: string, keys: Keys, body: Buffer): RequestSet {
  const hash = createHash("sha256").update(body).digest("hex");
  const extra: Header[] = [
    ["Content-Type", "application/octet-stream"],
    ["Content-Length", String(body.length)],
  ];
  const { headers } = signedHeaders("PUT", path, port, keys, hash, extra);
  return { method: "PUT", requests: [{ path, headers: withoutLength(headers) }], body };
}

/** A presigned GET URL (15 minutes), no auth header. */
export function presignedGet(port: number, path: string, keys: Keys): RequestSet {
  const url = presignUrl({
    method: "GET",
    rawPath: path,
    host: hostOf(port),
    ...keys,
    region: REGION,
    expiresSeconds: 900,
  });
  return { method: "GET", requests: [{ path: url, headers: [["Host", hostOf(port)]] }], body: null };
}

/**
 * An aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): every chunk signed in the chain that starts at
 * the header signature, as the AWS CLI and SDKs send a streaming PUT.
 */
export function chunkedPut(
  port: number,
  path: string,
  keys: Keys,
  payload: Buffer,
  chunkBytes: number,
): RequestSet {
  const mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  // The encoded length depends only on the sizes (signatures are fixed-width): encode once to learn it.
  const lengthOf = (seedSignature: string, amzDate: string) =>
    encodeAwsChunked(payload, {
      chunkBytes,
      mode: "streaming-signed",
      signing: {
        signingKey: deriveSigningKey(keys.secretAccessKey, amzDate.slice(0, 8), REGION, "s3"),
        amzDate,
        scope: { date: amzDate.slice(0, 8), region: REGION, service: "s3" },
        seedSignature,
      },
    });
  const probe = lengthOf("0".repeat(64), "20250101T000000Z");
  const extra: Header[] = [
    ["Content-Encoding", "aws-chunked"],
    ["Content-Length", String(probe.length)],
    ["x-amz-decoded-content-length", String(payload.length)],
  ];
  const { headers, signature, amzDate } = signedHeaders("PUT", path, port, keys, mode, extra);
  const body = lengthOf(signature, amzDate);
  if (body.length !== probe.length) throw new Error("aws-chunked: the encoded length changed");
  return { method: "PUT", requests: [{ path, headers: withoutLength(headers) }], body };
}

/** A GET carrying an IBM IAM bearer token, as osp sends it to a bearer upstream. */
export function bearerGet(port: number, path: string, token: string): RequestSet {
  const headers: Header[] = [
    ["Host", hostOf(port)],
    ["Authorization", `Bearer ${token}`],
  ];
  return { method: "GET", requests: [{ path, headers }], body: null };
}

/** Content-Length is signed (SDKs sign it) but wrk writes it from the body: it must not be sent twice. */
function withoutLength(headers: readonly Header[]): Header[] {
  return headers.filter(([k]) => k.toLowerCase() !== "content-length");
}
