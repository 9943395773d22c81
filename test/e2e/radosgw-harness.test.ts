/**
 * The radosgw harness of @osp/testkit, checked with the AWS SDK straight against it (no osp in
 * between): objects, multipart ETags, and that it really verifies SigV4. Skipped where Ceph is not
 * installed (scripts/install-system-deps.sh installs it).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from "@aws-sdk/client-s3";
import { type RadosgwUpstream, radosgwAvailable, startRadosgw } from "@osp/testkit";

const skip = radosgwAvailable()
  ? false
  : "Ceph is not installed (run scripts/install-system-deps.sh as root)";
const BUCKET = "harness";

/** Pacific predates flexible checksums and trailers, so the SDK must only add them when required. */
function clientFor(upstream: RadosgwUpstream, secretAccessKey = upstream.secretAccessKey): S3Client {
  return new S3Client({
    endpoint: upstream.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: upstream.accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
  });
}

function md5(data: Uint8Array): Buffer {
  return createHash("md5").update(data).digest();
}

describe("the radosgw harness", { skip }, () => {
  let upstream: RadosgwUpstream | undefined;
  let s3: S3Client;

  before(async () => {
    upstream = await startRadosgw({ buckets: [BUCKET] });
    s3 = clientFor(upstream);
  });

  after(async () => {
    s3?.destroy();
    await upstream?.close();
  });

  test("stores, lists, reads back and deletes an object with a long unicode key", async () => {
    const key = `nested dir/ünïcødé-${"k".repeat(240)}.txt`;
    const body = "hello from the radosgw harness\n";
    const put = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "text/plain" }),
    );
    assert.equal(put.ETag, `"${md5(Buffer.from(body)).toString("hex")}"`);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "nested dir/" }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [[key, Buffer.byteLength(body)]],
    );

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(got.ContentType, "text/plain");
    assert.equal(await got.Body?.transformToString(), body);

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: "NotFound" });
  });

  test("completes a multipart upload whose ETag is the MD5 of the part MD5s and the part count", async () => {
    const key = "multipart.bin";
    // radosgw enforces S3's 5 MiB minimum for every part but the last.
    const parts = [Buffer.alloc(5 * 1024 * 1024, 0x61), Buffer.from("the short last part")];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    assert.ok(UploadId);
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      // Annotated: assert.equal's narrowing inside the loop otherwise makes the inferred type circular.
      const uploaded: UploadPartCommandOutput = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: part }),
      );
      assert.equal(uploaded.ETag, `"${md5(part).toString("hex")}"`);
      etags.push(uploaded.ETag);
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    // Pacific answers CompleteMultipartUpload with an empty <ETag/> (Red Hat BZ 2266579), so the
    // stored ETag is read back instead.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(got.ETag, `"${md5(Buffer.concat(parts.map(md5))).toString("hex")}-${parts.length}"`);
    const bytes = await got.Body?.transformToByteArray();
    assert.ok(bytes);
    assert.equal(bytes.length, parts[0]!.length + parts[1]!.length);
    assert.deepEqual(md5(bytes), md5(Buffer.concat(parts)));
  });

  test("refuses a request signed with a wrong secret with 403 SignatureDoesNotMatch", async (t) => {
    assert.ok(upstream);
    const impostor = clientFor(upstream, `${upstream.secretAccessKey}-wrong`);
    t.after(() => impostor.destroy());
    await assert.rejects(impostor.send(new ListObjectsV2Command({ Bucket: BUCKET })), (error: unknown) => {
      assert.ok(error instanceof S3ServiceException);
      assert.equal(error.name, "SignatureDoesNotMatch");
      assert.equal(error.$metadata.httpStatusCode, 403);
      return true;
    });
  });
});

describe("two radosgw harnesses at once", { skip }, () => {
  test("run side by side on their own ports and directories, and close removes everything", async () => {
    const [a, b] = await Promise.all([
      startRadosgw({ buckets: ["one"] }),
      startRadosgw({ buckets: ["two"] }),
    ]);
    try {
      assert.notEqual(a.port, b.port);
      assert.notEqual(a.directory, b.directory);
      for (const [upstream, bucket] of [
        [a, "one"],
        [b, "two"],
      ] as const) {
        const s3 = clientFor(upstream);
        try {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: bucket }));
          const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
          assert.deepEqual(
            listed.Contents?.map((o) => o.Key),
            ["k"],
          );
        } finally {
          s3.destroy();
        }
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    assert.equal(existsSync(a.directory), false);
    assert.equal(existsSync(b.directory), false);
    const s3 = clientFor(a);
    try {
      await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: "one" })), { code: "ECONNREFUSED" });
    } finally {
      s3.destroy();
    }
  });
});
