/**
 * The CORS step's cost per request, called by `run.ts`: what the pipeline adds for a bucket with
 * `cors` rules to a request without an Origin header (the map lookup, one pass over the request headers and
 * one over the store's response headers), to one whose Origin matches (the headers built), and a preflight's
 * answer. A bucket without rules costs one `null` check, measured as the baseline row.
 */
import { compileConfig } from "@osp/config";
import { answerPreflight, compileCors, corsResponseHeaders, withoutCorsHeaders } from "@osp/gateway";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const ROUNDS = 7;
const ITERATIONS = 1_000_000;

/** Median ns per call of `op` over `ROUNDS` rounds, after a warm-up round. */
function measureNs(op: () => unknown): number {
  let sink: unknown;
  const perOp: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink = op();
    if (round >= 0) perOp.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  if (sink === Symbol.for("never")) process.stdout.write("");
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(perOp.length / 2)]!;
}

/** A GetObject as the AWS SDK sends it (SigV4 header auth), and the store's answer. */
const SDK_GET: Array<readonly [string, string]> = [
  ["host", "osp.example.com"],
  ["x-amz-user-agent", "aws-sdk-js/3.936.0"],
  ["user-agent", "aws-sdk-js/3.936.0 ua/2.1 os/linux lang/js md/nodejs#20.19.0"],
  ["amz-sdk-invocation-id", "0f3a9c2e-8d1b-4c55-a1c2-7d0f1e2b3c4d"],
  ["amz-sdk-request", "attempt=1; max=3"],
  ["x-amz-date", "20250115T120000Z"],
  ["x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  [
    "authorization",
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250115/us-east-1/s3/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date;x-amz-user-agent, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  ],
];
const STORE_ANSWER: Array<readonly [string, string]> = [
  ["x-amz-request-id", "tx000000000000000000001"],
  ["content-length", "1024"],
  ["accept-ranges", "bytes"],
  ["last-modified", "Wed, 15 Jan 2025 12:00:00 GMT"],
  ["etag", '"d41d8cd98f00b204e9800998ecf8427e"'],
  ["content-type", "application/octet-stream"],
  ["date", "Wed, 15 Jan 2025 12:00:00 GMT"],
];

export async function benchCors(): Promise<Row[]> {
  const cors = compileCors(
    compileConfig(
      `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets:
  plain: { endpoint: e }
  web:
    endpoint: e
    cors:
      - allowedOrigins: ["https://app.example.com", "https://*.example.org"]
        allowedMethods: [GET, PUT, HEAD]
        allowedHeaders: [content-type, "x-amz-meta-*"]
        exposeHeaders: [ETag, x-amz-request-id]
        maxAgeSeconds: 600
`,
      "bench",
      {},
    ),
  )!;
  const withOrigin = [...SDK_GET, ["origin", "https://app.example.com"] as const];
  const preflight: Array<readonly [string, string]> = [
    ["host", "osp.example.com"],
    ["origin", "https://app.example.com"],
    ["access-control-request-method", "PUT"],
    ["access-control-request-headers", "content-type,x-amz-meta-colour"],
  ];
  // What the pipeline runs per request (exchange.ts `corsPreflight` and `startResponse`).
  const step = (bucket: string, headers: ReadonlyArray<readonly [string, string]>) => {
    const policy = cors.get(bucket);
    if (policy === undefined) return null;
    const added = corsResponseHeaders(policy, "GET", headers);
    return [withoutCorsHeaders(STORE_ANSWER), added];
  };
  const web = cors.get("web")!;
  return [
    { name: "cors: bucket without rules", unit: "ns/req", value: measureNs(() => step("plain", SDK_GET)) },
    {
      name: "cors: bucket with rules, no Origin",
      unit: "ns/req",
      value: measureNs(() => step("web", SDK_GET)),
    },
    {
      name: "cors: bucket with rules, Origin matches",
      unit: "ns/req",
      value: measureNs(() => step("web", withOrigin)),
    },
    {
      name: "cors: preflight answer",
      unit: "ns/req",
      value: measureNs(() => answerPreflight(web, preflight, true)),
    },
  ];
}
