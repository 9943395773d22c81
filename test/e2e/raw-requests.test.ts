/**
 * Requests SDKs won't make, sent raw: signed aws-chunked bodies (good and tampered), lying payload
 * hashes and digests, unsigned x-amz-* headers, Expect: 100-continue, refused framings and auth
 * schemes. A refused body must never be stored upstream: each case checks the store directly, against s3rver
 * and against radosgw (which, like S3, discards a request whose body ends short of its Content-Length).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { radosgwAvailable } from "@osp/testkit";
import {
  assertRefusedUploadNotStored,
  errorCode,
  rawRequest,
  type Stack,
  signAsAlice,
  signedChunkedUpload,
  startStack,
  storedSize,
} from "./harness.js";

/** Signs like an SDK would: host, x-amz-date, x-amz-content-sha256 and the given headers. */
function sign(
  stack: Stack,
  method: string,
  path: string,
  headers: Array<[string, string]>,
  payloadHash: string,
  nowMs = Date.now(),
): { headers: Array<[string, string]>; signature: string; amzDate: string } {
  return signAsAlice(stack.endpoint, method, path, headers, payloadHash, { nowMs });
}

async function storedUpstream(stack: Stack, key: string): Promise<boolean> {
  return (await storedSize(stack, key)) !== null;
}

function chunkedPut(stack: Stack, key: string, data: Buffer, tamper: (body: Buffer) => void = () => {}) {
  const path = `/data/${key}`;
  const { headers, body } = signedChunkedUpload(stack.endpoint, path, data);
  tamper(body);
  return rawRequest(stack.endpoint, { method: "PUT", path, headers, body });
}

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`raw requests through osp to ${upstream}`, { skip }, () => {
    let stack: Stack;
    const payload = Buffer.alloc(200_000, "a");
    before(async () => {
      stack = await startStack({ upstream });
    });
    after(async () => {
      await stack.close();
    });

    test("stores a signed aws-chunked upload and serves it back exactly", async () => {
      const res = await chunkedPut(stack, "chunked-ok", payload);
      assert.equal(res.status, 200, res.body);
      assert.ok(await storedUpstream(stack, "chunked-ok"));
    });

    test("refuses a tampered chunk with SignatureDoesNotMatch and stores nothing", async () => {
      const res = await chunkedPut(stack, "chunked-bad", payload, (body) => {
        const at = body.length - 500; // inside the last data chunk
        body[at] = (body[at] ?? 0) ^ 1;
      });
      assert.equal(res.status, 403);
      assert.equal(errorCode(res.body), "SignatureDoesNotMatch");
      await assertRefusedUploadNotStored(stack, upstream, "chunked-bad", payload.length);
    });

    test("refuses a body whose SHA-256 is not the declared one and stores nothing", async () => {
      const body = Buffer.from("the real body");
      const declared = createHash("sha256").update("another body").digest("hex");
      const signed = sign(stack, "PUT", "/data/sha-bad", [["content-length", String(body.length)]], declared);
      const res = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/sha-bad",
        headers: signed.headers,
        body,
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), "XAmzContentSHA256Mismatch");
      await assertRefusedUploadNotStored(stack, upstream, "sha-bad", body.length);
    });

    test("refuses a GET whose declared payload SHA-256 is not the empty body's", async () => {
      const declared = createHash("sha256").update("a body that never came").digest("hex");
      const signed = sign(stack, "GET", "/data/anything", [], declared);
      const res = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/anything",
        headers: signed.headers,
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), "XAmzContentSHA256Mismatch");
    });

    test("checks a Content-MD5 sent with an empty body", async () => {
      const wrongMd5 = createHash("md5").update("not empty").digest("base64");
      const signed = sign(
        stack,
        "PUT",
        "/data/empty-md5",
        [
          ["content-length", "0"],
          ["content-md5", wrongMd5],
        ],
        createHash("sha256").update("").digest("hex"),
      );
      const res = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/empty-md5",
        headers: signed.headers,
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), "BadDigest");
      assert.equal(await storedUpstream(stack, "empty-md5"), false);
    });

    test("refuses a wrong Content-MD5 with BadDigest and stores nothing", async () => {
      const body = Buffer.from("md5 checked body");
      const wrongMd5 = createHash("md5").update("something else").digest("base64");
      const signed = sign(
        stack,
        "PUT",
        "/data/md5-bad",
        [
          ["content-length", String(body.length)],
          ["content-md5", wrongMd5],
        ],
        "UNSIGNED-PAYLOAD",
      );
      const res = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/md5-bad",
        headers: signed.headers,
        body,
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), "BadDigest");
      await assertRefusedUploadNotStored(stack, upstream, "md5-bad", body.length);
    });

    test("refuses an x-amz-* header that was not signed", async () => {
      const signed = sign(stack, "GET", "/data/plain.txt", [], "UNSIGNED-PAYLOAD");
      signed.headers.push(["x-amz-meta-sneaky", "1"]);
      const res = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/plain.txt",
        headers: signed.headers,
      });
      assert.equal(res.status, 403);
      assert.equal(errorCode(res.body), "AccessDenied");
    });

    test("refuses a request signed 16 minutes ago with RequestTimeTooSkewed", async () => {
      const signed = sign(stack, "GET", "/data/x", [], "UNSIGNED-PAYLOAD", Date.now() - 16 * 60_000);
      const res = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/x",
        headers: signed.headers,
      });
      assert.equal(res.status, 403);
      assert.equal(errorCode(res.body), "RequestTimeTooSkewed");
    });

    test("authenticates every method, OPTIONS, PATCH and TRACE included", async () => {
      for (const method of ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE"]) {
        const res = await rawRequest(stack.endpoint, {
          method,
          path: "/data/x?uploadId=1",
          headers: [["host", "h"]],
        });
        assert.equal(res.status, 403, method);
        assert.equal(errorCode(res.body), "AccessDenied", method);
      }
      const head = await rawRequest(stack.endpoint, {
        method: "HEAD",
        path: "/data/x",
        headers: [["host", "h"]],
      });
      assert.equal(head.status, 403);
    });

    test("closes the connection on a method uWS does not route (WebDAV and made-up ones), forwarding nothing", async () => {
      for (const method of ["PROPFIND", "MKCOL", "FOO"]) {
        await assert.rejects(
          rawRequest(stack.endpoint, { method, path: "/data/webdav", headers: [["host", "h"]] }),
          /socket hang up|ECONNRESET/,
          method,
        );
      }
      assert.equal(await storedUpstream(stack, "webdav"), false);
    });

    test("refuses SigV2 and unknown authorization schemes with S3's codes", async () => {
      const v2 = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/x",
        headers: [
          ["host", "h"],
          ["authorization", "AWS ALICEACCESSKEY01:c2lnbmF0dXJl"],
        ],
      });
      assert.equal(v2.status, 400);
      assert.equal(errorCode(v2.body), "InvalidRequest");
      const bearer = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/x",
        headers: [
          ["host", "h"],
          ["authorization", "Bearer abc"],
        ],
      });
      assert.equal(bearer.status, 400);
      assert.equal(errorCode(bearer.body), "InvalidArgument");
    });

    test("refuses hostile bucket names and over-long keys before anything is forwarded", async () => {
      for (const bucket of [
        "127.0.0.1:9000",
        "evil.example.com:80",
        "Data",
        "a..b",
        "x",
        "192.168.0.1",
        "..",
        "%2e%2e",
      ]) {
        const path = `/${bucket}/k`;
        const signed = sign(stack, "GET", path, [], "UNSIGNED-PAYLOAD");
        const res = await rawRequest(stack.endpoint, { method: "GET", path, headers: signed.headers });
        assert.equal(res.status, 400, bucket);
        assert.equal(errorCode(res.body), "InvalidBucketName", bucket);
      }
      const longKey = "k".repeat(1025);
      const signed = sign(stack, "PUT", `/data/${longKey}`, [["content-length", "1"]], "UNSIGNED-PAYLOAD");
      const res = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: `/data/${longKey}`,
        headers: signed.headers,
        body: Buffer.from("x"),
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), "KeyTooLongError");
    });

    test("answers a plain chunked upload with NotImplemented and aws-chunked without a length with 411", async () => {
      const signed = sign(stack, "PUT", "/data/te", [["transfer-encoding", "chunked"]], "UNSIGNED-PAYLOAD");
      const te = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/te",
        headers: signed.headers,
        body: Buffer.from("abc"),
      });
      assert.equal(te.status, 501);
      assert.equal(errorCode(te.body), "NotImplemented");
      const noLength = sign(
        stack,
        "PUT",
        "/data/nolen",
        [
          ["content-encoding", "aws-chunked"],
          ["content-length", "5"],
        ],
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      );
      const res = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/nolen",
        headers: noLength.headers,
        body: Buffer.from("0\r\n\r\n"),
      });
      assert.equal(res.status, 411);
      assert.equal(errorCode(res.body), "MissingContentLength");
    });

    test("Expect: 100-continue never lets an unauthenticated body reach the upstream", async () => {
      // uWS answers `100 Continue` itself before the gateway runs (packages/http README), so the client
      // sends its body either way; what the gateway guarantees is that a refused body is never forwarded.
      const port = Number(new URL(stack.endpoint).port);
      const exchange = (headers: Array<[string, string]>, body: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1");
          let seen = "";
          let sentBody = false;
          socket.setEncoding("latin1");
          socket.on("data", (d: string) => {
            seen += d;
            const interim = "HTTP/1.1 100 Continue\r\n\r\n";
            if (!sentBody && seen.startsWith(interim)) {
              sentBody = true;
              seen = seen.slice(interim.length); // the final answer may arrive in the same read
              socket.write(body);
            }
            if (sentBody && seen.includes("\r\n\r\n")) {
              socket.destroy();
              resolve(seen);
            }
          });
          socket.on("error", reject);
          socket.write(
            `PUT /data/continue HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`,
          );
        });
      const good = sign(
        stack,
        "PUT",
        "/data/continue",
        [
          ["content-length", "5"],
          ["expect", "100-continue"],
        ],
        "UNSIGNED-PAYLOAD",
      );
      const flip = (v: string) => v.slice(0, -1) + (v.endsWith("0") ? "1" : "0");
      const bad = good.headers.map(([k, v]): [string, string] => [k, k === "authorization" ? flip(v) : v]);
      assert.match(await exchange(bad, "bad!!"), /^HTTP\/1\.1 403/);
      assert.equal(await storedUpstream(stack, "continue"), false);
      assert.match(await exchange(good.headers, "hello"), /^HTTP\/1\.1 200/);
      assert.ok(await storedUpstream(stack, "continue"));
    });
  });
}

describe("virtual-hosted addressing", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "addressing: { virtualHostDomains: [s3.osp.test] }" });
  });
  after(async () => {
    await stack.close();
  });

  test("takes the bucket from the Host header and still serves path-style requests", async () => {
    const port = new URL(stack.endpoint).port;
    const signedFor = (host: string, method: string, path: string, extra: Array<[string, string]>) =>
      signAsAlice(stack.endpoint, method, path, extra, "UNSIGNED-PAYLOAD", { host }).headers;
    const put = await rawRequest(stack.endpoint, {
      method: "PUT",
      path: "/vhost/a b.txt".replace(" ", "%20"),
      headers: signedFor(`data.s3.osp.test:${port}`, "PUT", "/vhost/a%20b.txt", [["content-length", "5"]]),
      body: Buffer.from("vhost"),
    });
    assert.equal(put.status, 200, put.body);
    const got = await stack.client().send(new GetObjectCommand({ Bucket: "data", Key: "vhost/a b.txt" }));
    assert.equal(await got.Body?.transformToString(), "vhost");
    // A Host naming a bucket the rules allow (`ext-*`) but no endpoint serves: NoSuchBucket, never a request
    // to that host.
    const other = await rawRequest(stack.endpoint, {
      method: "GET",
      path: "/k",
      headers: signedFor(`ext-elsewhere.s3.osp.test:${port}`, "GET", "/k", []),
    });
    assert.equal(other.status, 404);
    assert.equal(errorCode(other.body), "NoSuchBucket");
  });
});
