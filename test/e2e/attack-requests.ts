/**
 * Requests of the attack corpus (attack-table.ts) that are more than one signed request line: a presigned URL
 * with a hoisted header, a client that goes away mid-body, and carol's SDK client doing ordinary work.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { presignUrl } from "@osp/sigv4";
import { CAROL, type Env, type Reply, withTimeout } from "./attack-cases.js";
import { rawRequest, signAsAlice } from "./harness.js";

const BODY = "attacker's bytes\n";
const PART1 = "part one of carol's upload\n";

/** A presigned PUT by carol (UNSIGNED-PAYLOAD) with `extraQuery` signed into its URL. */
export async function presignedPut(env: Env, key: string, extraQuery: string): Promise<Reply> {
  const host = new URL(env.stack.endpoint).host;
  const path = presignUrl({
    method: "PUT",
    rawPath: `/data/${key}`,
    rawQuery: extraQuery,
    host,
    accessKeyId: CAROL.accessKeyId,
    secretAccessKey: CAROL.secretAccessKey,
    region: "us-east-1",
    expiresSeconds: 300,
  });
  const sent = `PUT ${path}`;
  return withTimeout(
    rawRequest(env.stack.endpoint, {
      method: "PUT",
      path,
      headers: [
        ["host", host],
        ["content-length", String(BODY.length)],
      ],
      body: Buffer.from(BODY),
    }).then((r) => ({ ...r, sent })),
    sent,
  );
}

/** A signed PUT of 64 KiB (UNSIGNED-PAYLOAD) whose client sends half the body and closes the connection. */
export async function abandonedPut(env: Env, key: string): Promise<Reply> {
  const path = `/data/${key}`;
  const endpoint = new URL(env.stack.endpoint);
  const signed = signAsAlice(
    env.stack.endpoint,
    "PUT",
    path,
    [["content-length", "65536"]],
    "UNSIGNED-PAYLOAD",
    {
      as: CAROL,
    },
  );
  const head = `PUT ${path} HTTP/1.1\r\n${signed.headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(endpoint.port), endpoint.hostname, () => {
      socket.write(head);
      socket.write(Buffer.alloc(32768, "H"), () => setTimeout(() => socket.destroy(), 200));
    });
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
  return {
    status: 0,
    headers: {},
    body: "",
    sent: `PUT ${path} [64 KiB declared, 32 KiB sent, then closed]`,
  };
}

/** PutObject, GetObject, ListObjectsV2, a multipart upload and DeleteObjects by carol's SDK client. */
export async function sdkRoundTrip(env: Env): Promise<Reply> {
  const s3 = env.stack.client(CAROL);
  const Bucket = "data";
  await s3.send(new PutObjectCommand({ Bucket, Key: "carol/sdk.txt", Body: "through the sdk\n" }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "carol/sdk.txt" }));
  assert.equal(await got.Body!.transformToString(), "through the sdk\n");
  const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "carol/" }));
  assert.ok(list.Contents?.some((o) => o.Key === "carol/sdk.txt"));
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "carol/sdk-mp.bin" }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket,
      Key: "carol/sdk-mp.bin",
      UploadId: mp.UploadId,
      PartNumber: 1,
      Body: PART1,
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key: "carol/sdk-mp.bin",
      UploadId: mp.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  const deleted = await s3.send(
    new DeleteObjectsCommand({
      Bucket,
      Delete: { Objects: [{ Key: "carol/sdk.txt" }, { Key: "carol/sdk-mp.bin" }] },
    }),
  );
  assert.deepEqual(deleted.Errors ?? [], []);
  assert.equal(deleted.Deleted?.length, 2);
  return { status: 200, headers: {}, body: "", sent: "SDK round trip under carol/" };
}
