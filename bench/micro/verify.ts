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
import { ACCESS_KEY_ID, HOST, NOW_MS, REGION, SECRET, sdkGetObject } from "../common/sdk-request.js";

interface Row {
  name: string;
  unit: string;
  value: number;
}

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
