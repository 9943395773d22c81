/**
 * End-to-end fixture: s3rver (fast) or radosgw (a real Ceph S3 server that checks every re-signed request
 * strictly) as the upstream, one osp worker in this process in front of it, and
 * AWS SDK clients pointed at the worker. Everything on 127.0.0.1, ports chosen by the OS.
 */
import assert from "node:assert/strict";
import { HeadObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { compileConfig } from "@osp/config";
import { startWorker, type Worker } from "@osp/gateway";
import { createLogger, type Logger, type LogLevel } from "@osp/log";
import { deriveSigningKey, encodeAwsChunked, formatAmzDate, signRequest } from "@osp/sigv4";
import {
  type Recorded,
  requestText,
  type S3rverUpstream,
  startRadosgw,
  startRecordingProxy,
  startS3rver,
} from "@osp/testkit";

export { type Recorded, startRecordingProxy } from "@osp/testkit";

export const ALICE = { accessKeyId: "ALICEACCESSKEY01", secretAccessKey: "alice-secret-key-0123456789" };
export const BOB = { accessKeyId: "BOBACCESSKEY0001", secretAccessKey: "bob-secret-key-0123456789" };

export interface Stack {
  readonly upstream: S3rverUpstream;
  readonly worker: Worker;
  readonly endpoint: string;
  /** An SDK client to osp; `extra` overrides its settings (e.g. `requestChecksumCalculation`). */
  client(credentials?: { accessKeyId: string; secretAccessKey: string }, extra?: S3ClientConfig): S3Client;
  /** A client straight to the upstream, to see what really got stored. */
  direct(): S3Client;
  close(): Promise<void>;
}

/**
 * Buckets: `data` (alice: everything; bob: read+list under `public/`), `mapped` (stored upstream as
 * `mapped-upstream`), `forbidden` (nobody). `extraYaml` is appended to the config.
 */
export async function startStack(
  options: {
    upstream?: "s3rver" | "radosgw";
    extraYaml?: string;
    /** Keys added to the `authorization` section (e.g. `  hook: /path/authz.mjs`), two-space indented. */
    authorizationYaml?: string;
    /** The gateway's logger (default: silent, or OSP_TEST_LOG_LEVEL). */
    log?: Logger;
    /** The access key osp signs upstream requests with (default: the upstream's own). */
    upstreamAccessKeyId?: string;
    /** The endpoint's `keys` setting (default `safe`: keys with dot segments refused). */
    keys?: "safe" | "literal";
    /** Credentials added to alice's and bob's (their rules go in `authorizationYaml`). */
    credentials?: ReadonlyArray<{ accessKeyId: string; secretAccessKey: string; principal: string }>;
    /** When given, osp reaches the upstream through a recording proxy that appends every request here. */
    recordUpstream?: Recorded[];
    /** Keys added to the `data` bucket's flow mapping (e.g. `, cors: [{ … }]`). */
    dataBucketYaml?: string;
    /** More `buckets` keys, one per line, two-space indented. */
    bucketsYaml?: string;
  } = {},
): Promise<Stack> {
  const buckets = ["data", "mapped-upstream", "forbidden"];
  const upstream =
    options.upstream === "radosgw" ? await startRadosgw({ buckets }) : await startS3rver({ buckets });
  const proxy =
    options.recordUpstream === undefined
      ? null
      : await startRecordingProxy(upstream.url, options.recordUpstream, { exact: true });
  const extraYaml = options.extraYaml ?? "";
  const moreCredentials = (options.credentials ?? [])
    .map(
      (c) =>
        `\n  - { accessKeyId: ${c.accessKeyId}, secretAccessKey: ${c.secretAccessKey}, principal: ${c.principal} }`,
    )
    .join("");
  const config = compileConfig(
    `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  local:
    url: ${proxy?.url ?? upstream.url}
    addressing: path
    auth: { type: hmac, accessKeyId: ${options.upstreamAccessKeyId ?? upstream.accessKeyId}, secretAccessKey: ${upstream.secretAccessKey} }
    keys: ${options.keys ?? "safe"}
buckets:
  data: { endpoint: local${options.dataBucketYaml ?? ""} }
  mapped: { endpoint: local, upstreamBucket: mapped-upstream }
  forbidden: { endpoint: local }
${options.bucketsYaml ?? ""}
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
  - { accessKeyId: ${BOB.accessKeyId}, secretAccessKey: ${BOB.secretAccessKey}, principal: bob }${moreCredentials}
authorization:
  rules:
    - { principal: alice, buckets: [data, mapped, "ext-*"], actions: ["*"] }
    - { principal: bob, buckets: [data], prefixes: [public/], actions: [read, list] }
${options.authorizationYaml ?? ""}
${extraYaml}`,
    "e2e",
    {},
  );
  const worker = await startWorker(config, {
    log: options.log ?? createLogger({ level: (process.env.OSP_TEST_LOG_LEVEL ?? "silent") as LogLevel }),
  });
  const endpoint = `http://127.0.0.1:${worker.port}`;
  const clients: S3Client[] = [];
  const make = (
    url: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
    extra: S3ClientConfig = {},
  ) => {
    const c = sdkClient(url, credentials, extra);
    clients.push(c);
    return c;
  };
  return {
    upstream,
    worker,
    endpoint,
    client: (credentials = ALICE, extra = {}) => make(endpoint, credentials, extra),
    direct: () =>
      make(upstream.url, { accessKeyId: upstream.accessKeyId, secretAccessKey: upstream.secretAccessKey }),
    async close() {
      for (const c of clients) c.destroy();
      await worker.close(2_000);
      await proxy?.close();
      await upstream.close();
    },
  };
}

/** Sends a raw HTTP/1.1 request and returns status, headers and body (for requests SDKs won't make). */
export async function rawRequest(
  url: string,
  options: { method: string; path: string; headers: Array<[string, string]>; body?: Buffer },
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const target = new URL(url);
  const answer = await requestText(
    {
      host: target.hostname,
      port: target.port,
      method: options.method,
      path: options.path,
      headers: options.headers.flat() as unknown as Record<string, string>,
    },
    options.body,
  );
  return { ...answer, headers: answer.headers as Record<string, string> };
}

export function errorCode(xml: string): string | null {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? null;
}

/** An SDK client for `endpoint` as the tests use it: path-style, us-east-1, no retries. */
export function sdkClient(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = ALICE,
  extra: S3ClientConfig = {},
): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    ...extra,
  });
}

/**
 * Signs a request with ALICE's key (or `as`'s) as an SDK would: `host` (from `endpoint`, or `host` when given),
 * the given headers, and what SigV4 adds (`x-amz-date`, `x-amz-content-sha256`, `authorization`). `path` may
 * hold a query.
 */
export function signAsAlice(
  endpoint: string,
  method: string,
  path: string,
  headers: Array<[string, string]>,
  payloadHash: string,
  options: { nowMs?: number; host?: string; as?: { accessKeyId: string; secretAccessKey: string } } = {},
): { headers: Array<[string, string]>; signature: string; amzDate: string } {
  const all: Array<[string, string]> = [["host", options.host ?? new URL(endpoint).host], ...headers];
  const credentials = options.as ?? ALICE;
  const [rawPath, rawQuery = ""] = path.split("?");
  const signed = signRequest({
    method,
    rawPath: rawPath!,
    rawQuery,
    headers: all,
    payloadHash,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    region: "us-east-1",
    nowMs: options.nowMs ?? Date.now(),
  });
  for (const [name, value] of signed.headersToAdd) all.push([name, value]);
  return { headers: all, signature: signed.signature, amzDate: signed.amzDate };
}

/** Rejects with the S3 error `name` and HTTP `status`, as the SDK reports it; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, name: string, status: number): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, status);
    return e;
  }
  assert.fail(`expected ${name} (${status}), but the request succeeded`);
}

/** What a recording proxy saw of one request. */
/** The stored object's size, or null when the store has no such object. */
export async function storedSize(stack: Stack, key: string): Promise<number | null> {
  try {
    const head = await stack.direct().send(new HeadObjectCommand({ Bucket: "data", Key: key }));
    return head.ContentLength ?? 0;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
    throw err;
  }
}

/**
 * After an upload refused once its body had started streaming upstream: osp destroys the upstream request
 * and never sends the body's last byte before the verdict, so a store that honours Content-Length (radosgw,
 * S3) has nothing. s3rver keeps whatever bytes arrived before the connection dropped (a 5-byte body of a
 * declared 10 is stored), so there the check is that it never received the whole body.
 */
export async function assertRefusedUploadNotStored(
  stack: Stack,
  upstream: "s3rver" | "radosgw",
  key: string,
  bodyBytes: number,
): Promise<void> {
  const size = await storedSize(stack, key);
  if (upstream === "radosgw" || size === null) {
    assert.equal(size, null, `${upstream} stored ${key}`);
    return;
  }
  assert.ok(size < bodyBytes, `s3rver got all ${bodyBytes} bytes of ${key} (stored ${size})`);
}

/**
 * A signed aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) of `data` to `path`, as an SDK frames it:
 * the headers (signed by ALICE, or `as`) and the body whose every `chunkBytes` chunk is signed in the chain.
 * The body may be tampered with before sending; its length is what the signed Content-Length says.
 */
export function signedChunkedUpload(
  endpoint: string,
  path: string,
  data: Buffer,
  options: { as?: { accessKeyId: string; secretAccessKey: string }; chunkBytes?: number } = {},
): { headers: Array<[string, string]>; body: Buffer } {
  const nowMs = Date.now();
  const chunkBytes = options.chunkBytes ?? 65536;
  const credentials = options.as ?? ALICE;
  const amzDate = formatAmzDate(nowMs);
  // The framing's length does not depend on the signatures: a body framed with dummy ones sizes the header.
  const framedLength = encodeAwsChunked(data, {
    chunkBytes,
    mode: "streaming-signed",
    signing: {
      signingKey: Buffer.alloc(32),
      amzDate,
      scope: { date: amzDate.slice(0, 8), region: "us-east-1", service: "s3" },
      seedSignature: "0".repeat(64),
    },
  }).length;
  const signed = signAsAlice(
    endpoint,
    "PUT",
    path,
    [
      ["content-encoding", "aws-chunked"],
      ["x-amz-decoded-content-length", String(data.length)],
      ["content-length", String(framedLength)],
    ],
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    { nowMs, as: credentials },
  );
  const scope = { date: signed.amzDate.slice(0, 8), region: "us-east-1", service: "s3" };
  const body = encodeAwsChunked(data, {
    chunkBytes,
    mode: "streaming-signed",
    signing: {
      signingKey: deriveSigningKey(credentials.secretAccessKey, scope.date, scope.region, scope.service),
      amzDate: signed.amzDate,
      scope,
      seedSignature: signed.signature,
    },
  });
  assert.equal(body.length, framedLength);
  return { headers: signed.headers, body };
}
