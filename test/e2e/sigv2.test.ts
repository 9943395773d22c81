/**
 * AWS Signature Version 2 through osp (`auth.sigV2: true`): real V2 clients — s3cmd
 * (Debian's, `signature_v2 = True`, and its `signurl`, which always signs V2) and boto3 with
 * `signature_version='s3'` — to s3rver and radosgw, then osp's answers to hand-signed V2 requests: refused
 * when off, two mechanisms, expiry, a wrong signature, the authorization rules and presign.maxUses applied
 * to V2 principals and URLs, and the V2 parameters kept from the store.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { radosgwAvailable } from "@osp/testkit";
import { ALICE, BOB, errorCode, type Recorded, rawRequest, type Stack, startStack } from "./harness.js";

const run = promisify(execFile);
const S3CMD = "/usr/bin/s3cmd";
const PYTHON = "/usr/bin/python3";
/** Debian's python3-boto3 lives in python3's dist-packages. */
const BOTO3 = "/usr/lib/python3/dist-packages/boto3";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const SIGV2_ON = "auth: { sigV2: true }\naddressing: { virtualHostDomains: [s3.test] }";

/** `Base64(HMAC-SHA1(secret, stringToSign))`, written here rather than taken from @osp/sigv4. */
const signV2 = (secret: string, stringToSign: string) =>
  createHmac("sha1", secret).update(stringToSign, "utf8").digest("base64");

type Key = { accessKeyId: string; secretAccessKey: string };

/** A header-signed V2 request (no Content-MD5, Content-Type or x-amz-* headers; `resource` is path-style). */
async function v2Request(
  stack: Stack,
  method: string,
  resource: string,
  options: { key?: Key; body?: Buffer; query?: string; signature?: string } = {},
) {
  const key = options.key ?? ALICE;
  const date = new Date().toUTCString();
  const signature = options.signature ?? signV2(key.secretAccessKey, `${method}\n\n\n${date}\n${resource}`);
  const headers: Array<[string, string]> = [
    ["host", new URL(stack.endpoint).host],
    ["date", date],
    ["authorization", `AWS ${key.accessKeyId}:${signature}`],
    ["content-length", String(options.body?.length ?? 0)],
  ];
  const path = options.query === undefined ? resource : `${resource}?${options.query}`;
  return rawRequest(stack.endpoint, {
    method,
    path,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}

/** A V2 presigned GET URL of `resource` (path-style), valid until `expires` (epoch seconds). */
function v2Url(stack: Stack, resource: string, expires: number, key: Key = ALICE): string {
  const signature = signV2(key.secretAccessKey, `GET\n\n\n${expires}\n${resource}`);
  return `${stack.endpoint}${resource}?AWSAccessKeyId=${key.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;
}

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`SigV2 clients through osp to ${upstream}`, { skip, timeout: 240_000 }, () => {
    let stack: Stack;
    let dir: string;
    before(async () => {
      stack = await startStack({ upstream, extraYaml: SIGV2_ON });
      dir = await mkdtemp(join(tmpdir(), "osp-sigv2-"));
    });
    after(async () => {
      await stack?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    test("s3cmd signs V2: put, get, ls, a multipart upload, del, and its signurl URL downloads", {
      skip: existsSync(S3CMD) ? false : "s3cmd is not installed (scripts/install-system-deps.sh)",
    }, async () => {
      const host = new URL(stack.endpoint).host;
      const config = join(dir, "s3cfg");
      await writeFile(
        config,
        `[default]\naccess_key = ${ALICE.accessKeyId}\nsecret_key = ${ALICE.secretAccessKey}\n` +
          `host_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nsignature_v2 = True\n` +
          "bucket_location = us-east-1\nguess_mime_type = False\n",
      );
      const env = { PATH: process.env.PATH, HOME: dir };
      const s3cmd = (...args: string[]) => run(S3CMD, ["-c", config, "--no-progress", ...args], { env });
      const small = join(dir, "small.txt");
      await writeFile(small, "from s3cmd over SigV2\n");
      await s3cmd("put", small, "s3://data/s3cmd/small file.txt");
      const back = join(dir, "small-back.txt");
      await s3cmd("get", "--force", "s3://data/s3cmd/small file.txt", back);
      assert.equal(await readFile(back, "utf8"), "from s3cmd over SigV2\n");

      const data = randomBytes(11 * 1024 * 1024);
      const big = join(dir, "big.bin");
      await writeFile(big, data);
      await s3cmd("put", "--multipart-chunk-size-mb=5", big, "s3://data/s3cmd/big.bin");
      const bigBack = join(dir, "big-back.bin");
      await s3cmd("get", "--force", "s3://data/s3cmd/big.bin", bigBack);
      assert.equal(sha256(await readFile(bigBack)), sha256(data));
      const { stdout: listing } = await s3cmd("ls", "s3://data/s3cmd/");
      assert.match(listing, /s3:\/\/data\/s3cmd\/big\.bin/);
      assert.match(listing, /s3:\/\/data\/s3cmd\/small file\.txt/);

      const { stdout: signed } = await s3cmd("signurl", "s3://data/s3cmd/small file.txt", "+300");
      const url = signed.trim();
      assert.match(url, /[?&]AWSAccessKeyId=.*&Expires=\d+&Signature=/);
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "from s3cmd over SigV2\n");
      await s3cmd("del", "s3://data/s3cmd/small file.txt");
      assert.equal((await fetch(url)).status, 404);
    });

    test("boto3 with signature_version='s3' puts, gets, lists, uploads multipart, and presigns", {
      skip: existsSync(PYTHON) && existsSync(BOTO3) ? false : "boto3 (python3-boto3) is not installed",
    }, async () => {
      const script = `
import boto3, hashlib, os, socket, sys, urllib.request
from botocore.config import Config
# Virtual-hosted style (*.s3.test, resolved here to osp): SigV2 signs /bucket + path. Path-style would
# meet a botocore 1.29 bug that radosgw refuses too: a bucket listing of /data signed as "/data/".
resolve = socket.getaddrinfo
socket.getaddrinfo = lambda host, *a, **k: resolve("127.0.0.1" if host.endswith("s3.test") else host, *a, **k)
endpoint = sys.argv[1].replace("127.0.0.1", "s3.test")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3", s3={"addressing_style": "virtual"},
                                retries={"max_attempts": 1}))
key = "boto-v2/a b+c.txt"
s3.put_object(Bucket="data", Key=key, Body=b"from boto3 over SigV2", ContentType="text/plain",
              Metadata={"who": "boto3"})
got = s3.get_object(Bucket="data", Key=key, ResponseContentType="application/x-test")
assert got["Body"].read() == b"from boto3 over SigV2"
assert got["ContentType"] == "application/x-test", got["ContentType"]
assert s3.head_object(Bucket="data", Key=key)["Metadata"] == {"who": "boto3"}
# botocore 1.29 (Debian 12) signs CreateMultipartUpload (and GetObjectAcl…) over "?uploads?uploads" with
# HmacV1: radosgw refuses it too. So the upload is created with SigV4; its parts and completion, which
# sign partNumber and uploadId as sub-resources, are V2.
v4 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
upload = v4.create_multipart_upload(Bucket="data", Key="boto-v2/multi.bin")["UploadId"]
data = os.urandom(11 * 1024 * 1024)
parts = []
for n, start in enumerate(range(0, len(data), 5 * 1024 * 1024), 1):
    etag = s3.upload_part(Bucket="data", Key="boto-v2/multi.bin", UploadId=upload, PartNumber=n,
                          Body=data[start:start + 5 * 1024 * 1024])["ETag"]
    parts.append({"PartNumber": n, "ETag": etag})
s3.complete_multipart_upload(Bucket="data", Key="boto-v2/multi.bin", UploadId=upload,
                             MultipartUpload={"Parts": parts})
body = s3.get_object(Bucket="data", Key="boto-v2/multi.bin")["Body"].read()
assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), "multipart bytes differ"
print(",".join(sorted(o["Key"] for o in s3.list_objects(Bucket="data", Prefix="boto-v2/")["Contents"])))
url = s3.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": key}, ExpiresIn=300)
assert url.startswith("http://data.s3.test:") and "AWSAccessKeyId=" in url and "Signature=" in url, url
print(urllib.request.urlopen(url).read().decode())
s3.delete_object(Bucket="data", Key=key)
`;
      const env = {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_ACCESS_KEY_ID: ALICE.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey,
        AWS_CONFIG_FILE: join(dir, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_EC2_METADATA_DISABLED: "true",
      };
      const { stdout } = await run(PYTHON, ["-c", script, stack.endpoint, dir], { env });
      const [keys, presigned] = stdout.trim().split("\n");
      assert.equal(keys, "boto-v2/a b+c.txt,boto-v2/multi.bin");
      assert.equal(presigned, "from boto3 over SigV2");
    });
  });
}

describe("osp's answers to SigV2 requests", { timeout: 60_000 }, () => {
  let off: Stack;
  let on: Stack;
  const recorded: Recorded[] = [];
  before(async () => {
    off = await startStack();
    on = await startStack({ extraYaml: `${SIGV2_ON}\npresign: { maxUses: 2 }`, recordUpstream: recorded });
    // Seeded with SigV4: bob reads under public/ only (the harness's rules).
    await on.client().send(new PutObjectCommand({ Bucket: "data", Key: "public/hello.txt", Body: "hello" }));
  });
  after(async () => {
    await off?.close();
    await on?.close();
  });

  test("with auth.sigV2 off (the default), V2 headers and URLs get 400 InvalidRequest as before", async () => {
    const header = await v2Request(off, "GET", "/data/public/hello.txt");
    assert.equal(header.status, 400);
    assert.equal(errorCode(header.body), "InvalidRequest");
    assert.match(header.body, /Please use AWS4-HMAC-SHA256/);
    const url = await fetch(v2Url(off, "/data/public/hello.txt", Math.floor(Date.now() / 1000) + 60));
    assert.equal(url.status, 400);
    assert.equal(errorCode(await url.text()), "InvalidRequest");
  });

  test("a V2 header with SigV4 query parameters is 400 InvalidArgument", async () => {
    const response = await v2Request(on, "GET", "/data/public/hello.txt", {
      query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
    });
    assert.equal(response.status, 400);
    assert.equal(errorCode(response.body), "InvalidArgument");
  });

  test("an expired V2 URL is 403 AccessDenied; a wrong signature is 403 SignatureDoesNotMatch", async () => {
    const expired = await fetch(v2Url(on, "/data/public/hello.txt", Math.floor(Date.now() / 1000) - 1));
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
    const wrong = await v2Request(on, "GET", "/data/public/hello.txt", { signature: signV2("nope", "x") });
    assert.equal(wrong.status, 403);
    assert.equal(errorCode(wrong.body), "SignatureDoesNotMatch");
    assert.match(wrong.body, /<StringToSign>GET\n\n\n[^\n]+\n\/data\/public\/hello\.txt<\/StringToSign>/);
  });

  test("a V2 principal is authorized by the same rules: bob reads public/, nothing else", async () => {
    const read = await v2Request(on, "GET", "/data/public/hello.txt", { key: BOB });
    assert.equal(read.status, 200);
    assert.equal(read.body, "hello");
    const write = await v2Request(on, "PUT", "/data/public/bob.txt", { key: BOB, body: Buffer.from("b") });
    assert.equal(write.status, 403);
    assert.equal(errorCode(write.body), "AccessDenied");
    const forbidden = await fetch(v2Url(on, "/forbidden/x.txt", Math.floor(Date.now() / 1000) + 60, BOB));
    assert.equal(forbidden.status, 403);
    assert.equal(errorCode(await forbidden.text()), "AccessDenied");
    const own = await v2Request(on, "PUT", "/data/v2/alice.txt", { body: Buffer.from("a") });
    assert.equal(own.status, 200);
  });

  test("a V2 URL counts against presign.maxUses, and its parameters never reach the store", async () => {
    recorded.length = 0;
    const url = v2Url(on, "/data/public/hello.txt", Math.floor(Date.now() / 1000) + 60, BOB);
    assert.equal((await fetch(url)).status, 200);
    assert.equal((await fetch(url)).status, 200);
    const third = await fetch(url);
    assert.equal(third.status, 403);
    assert.match(await third.text(), /maximum number of times/);
    assert.equal(recorded.length, 2);
    for (const r of recorded) assert.doesNotMatch(r.url, /AWSAccessKeyId|Signature|Expires/);
  });
});
