/**
 * `osp demo`: a local S3 upstream (s3rver), the gateway in front of it with the embedded cache, and a
 * real client (the AWS SDK for JavaScript v3, default checksum settings) using it. Stays in the
 * foreground until interrupted so a person can point aws-cli at it.
 */
import { compileConfig } from "@osp/config";
import { startWorker } from "@osp/gateway";
import { createLogger } from "@osp/log";
import { startS3rver } from "@osp/testkit";

export const DEMO_ACCESS_KEY = "OSPDEMOACCESSKEY";
export const DEMO_SECRET_KEY = "osp-demo-secret-key-do-not-use-in-production";
export const DEMO_BUCKET = "demo";

export async function runDemo(args: readonly string[]): Promise<number> {
  const portArg = args.indexOf("--port");
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 6190;
  const upstream = await startS3rver({});
  const config = compileConfig(
    `
listen: { host: 127.0.0.1, port: ${port} }
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
    "demo",
    {},
  );
  const log = createLogger({ level: "warn", name: "osp" });
  const worker = await startWorker(config, { log });
  const endpoint = `http://127.0.0.1:${worker.port}`;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`osp demo: gateway on ${endpoint} in front of s3rver at ${upstream.url}`);

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

  say(`
Point aws-cli at it:
  export AWS_ACCESS_KEY_ID=${DEMO_ACCESS_KEY}
  export AWS_SECRET_ACCESS_KEY=${DEMO_SECRET_KEY}
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url ${endpoint} s3 ls s3://${DEMO_BUCKET}/
  aws --endpoint-url ${endpoint} s3 cp ./some-file s3://${DEMO_BUCKET}/some-file

Press Ctrl-C to stop.`);
  if (args.includes("--once")) {
    await worker.close(1_000);
    await upstream.close();
    return body === text ? 0 : 1;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await worker.close(5_000);
  await upstream.close();
  return 0;
}
