/**
 * Micro-benchmarks of SigV4 header/presigned authentication (called by `run.ts`): header verification with a
 * cached signing key, presigned verification, signing-key derivation and upstream signing, in µs per
 * operation. Each figure is the median of several timed rounds after a warm-up, so one GC pause or a
 * neighbour's burst on a shared machine does not move it.
 */
import {
  authenticateRequest,
  deriveSigningKey,
  presignUrl,
  type RequestFacts,
  SigningKeyCache,
  signRequest,
  verifySignature,
} from "@osp/sigv4";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION = "us-east-1";
const HOST = "examplebucket.s3.eu-de.example.com";
const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const WARMUP_ITERATIONS = 20_000;
const ROUNDS = 7;
const ITERATIONS_PER_ROUND = 20_000;

/** Median µs per call of `op` over `ROUNDS` rounds; `sink` keeps results alive so nothing is optimised away. */
function measure(op: () => unknown, iterations = ITERATIONS_PER_ROUND): number {
  let sink: unknown;
  for (let i = 0; i < Math.min(WARMUP_ITERATIONS, iterations * 2); i++) sink = op();
  const perOp: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = op();
    perOp.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
  }
  if (sink === Symbol.for("never")) process.stdout.write("");
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(perOp.length / 2)]!;
}

/**
 * A realistic GetObject as the AWS SDK for JS v3 sends it: 5 signed headers (host, if-none-match, range,
 * x-amz-content-sha256, x-amz-date), 4 unsigned ones (user-agent, amz-sdk-*, accept), `x-id` in the query.
 */
function sdkGetObject(): RequestFacts {
  const rawPath = "/examplebucket/photos/2025/01/cat%20picture.jpg";
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
    secretAccessKey: SECRET,
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

function presignedGet(): RequestFacts {
  const url = presignUrl({
    method: "GET",
    rawPath: "/examplebucket/photos/2025/01/cat%20picture.jpg",
    rawQuery: "response-content-disposition=attachment",
    host: HOST,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    region: REGION,
    expiresSeconds: 3600,
    nowMs: NOW_MS,
  });
  const q = url.indexOf("?");
  return {
    method: "GET",
    rawPath: url.slice(0, q),
    rawQuery: url.slice(q + 1),
    headers: [
      ["host", HOST],
      ["user-agent", "curl/8.5.0"],
      ["accept", "*/*"],
    ],
  };
}

/** authenticate → key from the cache (a hit) → verify, as the gateway's authenticate phase runs it. */
function verifyWith(cache: SigningKeyCache, facts: RequestFacts): () => unknown {
  const options = { nowMs: NOW_MS };
  return () => {
    const auth = authenticateRequest(facts, options);
    if (auth === null || !("mechanism" in auth)) throw new Error("benchmark request did not authenticate");
    const error = verifySignature(auth, cache.get(SECRET, auth.scope));
    if (error !== null) throw error;
    return auth;
  };
}

export async function benchVerify(): Promise<Row[]> {
  const cache = new SigningKeyCache();
  const header = sdkGetObject();
  const presigned = presignedGet();
  const uploadHeaders: Array<readonly [string, string]> = [
    ["host", "s3.eu-de.cloud-object-storage.appdomain.cloud"],
    ["content-type", "application/octet-stream"],
    ["content-length", "1024"],
    ["user-agent", "osp"],
  ];
  const signKey = deriveSigningKey(SECRET, "20250115", REGION, "s3");
  return [
    { name: "sigv4 verify header (cached key)", unit: "µs/op", value: measure(verifyWith(cache, header)) },
    {
      name: "sigv4 verify presigned (cached key)",
      unit: "µs/op",
      value: measure(verifyWith(cache, presigned)),
    },
    {
      name: "sigv4 signing key derivation",
      unit: "µs/op",
      value: measure(() => deriveSigningKey(SECRET, "20250115", REGION, "s3"), 5_000),
    },
    {
      name: "sigv4 signRequest (upstream, given key)",
      unit: "µs/op",
      value: measure(() =>
        signRequest({
          method: "PUT",
          rawPath: "/data-prod/photos/2025/01/cat%20picture.jpg",
          rawQuery: "",
          headers: uploadHeaders,
          payloadHash: "UNSIGNED-PAYLOAD",
          accessKeyId: ACCESS_KEY_ID,
          signingKey: signKey,
          region: REGION,
          nowMs: NOW_MS,
        }),
      ),
    },
  ];
}
