/**
 * `osp demo`: a local S3 upstream (s3rver), the gateway cluster in front of it (`osp serve`: a primary and
 * two workers sharing the port, with the embedded cache), and a real client (the AWS SDK for JavaScript v3,
 * default checksum settings) using it. Stays in the foreground until interrupted so a person can point
 * aws-cli at it; `--once` stops after the client ran (tests).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startS3rver } from "@osp/testkit";
import { optionValue } from "./options.js";

const DEMO_ACCESS_KEY = "OSPDEMOACCESSKEY";
const DEMO_SECRET_KEY = "osp-demo-secret-key-do-not-use-in-production";
const DEMO_BUCKET = "demo";

export async function runDemo(args: readonly string[]): Promise<number> {
  const port = Number(optionValue(args, "--port") ?? 6190);
  const adminPort = Number(optionValue(args, "--admin-port") ?? 9090);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const upstream = await startS3rver({});
  const dir = mkdtempSync(join(tmpdir(), "osp-demo-"));
  const configFile = join(dir, "osp.yaml");
  writeFileSync(
    configFile,
    `# written by osp demo
listen: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort} }
workers: 2
logging: { level: warn }
endpoints:
  local-s3:
    url: ${upstream.url}
    addressing: path
    auth: { type: hmac, accessKeyId: ${upstream.accessKeyId}, secretAccessKey: ${upstream.secretAccessKey}, region: us-east-1 }
buckets:
  ${DEMO_BUCKET}: { endpoint: local-s3 }
credentials:
  - { accessKeyId: ${DEMO_ACCESS_KEY}, secretAccessKey: ${DEMO_SECRET_KEY}, principal: demo }
authorization:
  rules:
    - { principal: demo, buckets: ["${DEMO_BUCKET}"], actions: ["*"] }
`,
  );
  const bin = join(import.meta.dirname, "..", "..", "bin", "osp.js");
  const server = spawn(process.execPath, [bin, "serve", "--config", configFile], { stdio: "inherit" });
  const exited = new Promise<number>((resolve) => server.once("exit", (code) => resolve(code ?? 1)));
  const stop = async (): Promise<void> => {
    if (server.exitCode === null) server.kill("SIGTERM");
    await exited;
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = `http://127.0.0.1:${adminPort}`;
  if (!(await waitUntilReady(`${admin}/readyz`, () => server.exitCode !== null))) {
    process.stderr.write("osp demo: the gateway did not become ready (see its log above)\n");
    await stop();
    return 1;
  }
  say(`osp demo: gateway cluster (2 workers) on ${endpoint} in front of s3rver at ${upstream.url}`);

  const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } =
    await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: DEMO_ACCESS_KEY, secretAccessKey: DEMO_SECRET_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: DEMO_BUCKET }));
  say(`  CreateBucket ${DEMO_BUCKET}: ok`);
  const text = `hello from osp at ${new Date().toISOString()}\n`;
  await client.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: "hello.txt", Body: text }));
  say("  PutObject hello.txt: ok");
  const got = await client.send(new GetObjectCommand({ Bucket: DEMO_BUCKET, Key: "hello.txt" }));
  const body = await got.Body?.transformToString();
  say(`  GetObject hello.txt: ${JSON.stringify(body)} ${body === text ? "(matches)" : "(MISMATCH)"}`);
  const listed = await client.send(new ListObjectsV2Command({ Bucket: DEMO_BUCKET }));
  say(`  ListObjectsV2: ${(listed.Contents ?? []).map((o) => o.Key).join(", ")}`);
  client.destroy();
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const served = metrics
    .split("\n")
    .filter((l) => l.startsWith("osp_requests_total{"))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
  say(`  ${admin}/metrics: osp_requests_total = ${served}`);

  say(`
Point aws-cli at it:
  export AWS_ACCESS_KEY_ID=${DEMO_ACCESS_KEY}
  export AWS_SECRET_ACCESS_KEY=${DEMO_SECRET_KEY}
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url ${endpoint} s3 ls s3://${DEMO_BUCKET}/
  aws --endpoint-url ${endpoint} s3 cp ./some-file s3://${DEMO_BUCKET}/some-file
Metrics and health: ${admin}/metrics ${admin}/readyz

Press Ctrl-C to stop.`);
  if (!args.includes("--once")) {
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
      void exited.then(() => resolve());
    });
  }
  await stop();
  return body === text && served >= 4 ? 0 : 1;
}

async function waitUntilReady(url: string, gone: () => boolean): Promise<boolean> {
  const until = Date.now() + 30_000;
  while (Date.now() < until && !gone()) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
