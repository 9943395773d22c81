/**
 * Where the pipeline draws its lines: a prefix-limited grant does not cover DeleteObjects (its keys are in
 * the body); Content-MD5 and checksum headers of aws-chunked bodies are verified by osp; aws-chunked requests
 * without a body or with an impossible decoded length are answered at once; the headers osp sends upstream
 * (nothing a client's Connection header names, no forged X-Forwarded-For / Forwarded, only the configured
 * ibm-service-instance-id); and a store refusing requests for reasons other than the token does not make
 * osp fetch IAM tokens over and over; a store refusing osp's own credentials does not tell the client which
 * ones. Everything runs on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { compileConfig } from "@osp/config";
import { startWorker, type Worker } from "@osp/gateway";
import { createLogger } from "@osp/log";
import {
  closeServer,
  type FakeIamServer,
  listenOnLoopback,
  type S3rverUpstream,
  startFakeIamServer,
  startS3rver,
} from "@osp/testkit";
import {
  ALICE,
  assertRefusedUploadNotStored,
  BOB,
  errorCode,
  type Recorded,
  rawRequest,
  rejectsWith,
  type Stack,
  sdkClient,
  signAsAlice,
  startRecordingProxy,
  startStack,
  storedSize,
} from "./harness.js";

/** An aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT of `data` with `extra` headers, signed by alice. */
function unsignedChunkedPut(
  stack: Stack,
  key: string,
  data: string,
  extra: Array<[string, string]>,
  decodedLength = String(data.length),
) {
  const body = Buffer.from(`${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`);
  const path = `/data/${key}`;
  const signed = signAsAlice(
    stack.endpoint,
    "PUT",
    path,
    [
      ["content-encoding", "aws-chunked"],
      ["x-amz-decoded-content-length", decodedLength],
      ["content-length", String(body.length)],
      ...extra,
    ],
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  );
  return rawRequest(stack.endpoint, { method: "PUT", path, headers: signed.headers, body });
}

describe("authorization and body checks through osp to s3rver", () => {
  let stack: Stack;
  before(async () => {
    // bob: read + list under public/ (harness), and here also delete under public/ only.
    stack = await startStack({
      authorizationYaml: "    - { principal: bob, buckets: [data], prefixes: [public/], actions: [delete] }",
      extraYaml: "limits: { maxKeyBytes: 64 }",
    });
  });
  after(async () => {
    await stack.close();
  });

  test("DeleteObjects by a principal allowed to delete only under public/ cannot delete a key outside it", async () => {
    await stack.client().send(new PutObjectCommand({ Bucket: "data", Key: "private/keep-me", Body: "x" }));
    // Single-object DELETE of the same key is refused, as it should be:
    await rejectsWith(
      sdkClient(stack.endpoint, BOB).send(
        new DeleteObjectCommand({ Bucket: "data", Key: "private/keep-me" }),
      ),
      "AccessDenied",
      403,
    );
    // DeleteObjects names its keys in the body, not the request line: a grant limited to prefixes cannot cover it.
    await rejectsWith(
      sdkClient(stack.endpoint, BOB).send(
        new DeleteObjectsCommand({ Bucket: "data", Delete: { Objects: [{ Key: "private/keep-me" }] } }),
      ),
      "AccessDenied",
      403,
    );
    assert.notEqual(
      await storedSize(stack, "private/keep-me"),
      null,
      "bob deleted private/keep-me through DeleteObjects although his delete grant is limited to public/",
    );
  });

  test("a copy source key is held to limits.maxKeyBytes like the request's own key", async () => {
    const source = `data/${"k".repeat(100)}`;
    const copy = new CopyObjectCommand({ Bucket: "data", Key: "copy-target", CopySource: source });
    await rejectsWith(stack.client().send(copy), "KeyTooLongError", 400);
  });

  test("a listing with the prefix parameter twice is refused: the prefix authorized is the one applied", async () => {
    // bob may list under public/ only; a store reading the second prefix would list private/.
    const path = "/data?list-type=2&prefix=public%2F&prefix=private%2F";
    const signed = signAsAlice(stack.endpoint, "GET", path, [], "UNSIGNED-PAYLOAD", { as: BOB });
    const res = await rawRequest(stack.endpoint, { method: "GET", path, headers: signed.headers });
    assert.equal(res.status, 400, res.body);
    assert.equal(errorCode(res.body), "InvalidArgument");
    assert.doesNotMatch(res.body, /private\/keep-me/);
  });

  test("an aws-chunked body's x-amz-checksum-crc32 header is verified (BadDigest), not dropped unchecked", async () => {
    // CRC32 of "hello" is NhCmhg==; AAAAAA== is wrong. Endpoint `checksums: drop` (the default).
    const res = await unsignedChunkedPut(stack, "chunked-crc-header", "hello", [
      ["x-amz-checksum-crc32", "AAAAAA=="],
    ]);
    assert.equal(res.status, 400, `status ${res.status}: ${res.body}`);
    assert.equal(errorCode(res.body), "BadDigest");
    await assertRefusedUploadNotStored(stack, "s3rver", "chunked-crc-header", 5);
  });

  test("an aws-chunked body's Content-MD5 is verified by osp (BadDigest)", async () => {
    const res = await unsignedChunkedPut(stack, "chunked-md5-header", "hello", [
      ["content-md5", "AAAAAAAAAAAAAAAAAAAAAA=="],
    ]);
    assert.equal(res.status, 400, `status ${res.status}: ${res.body}`);
    assert.equal(errorCode(res.body), "BadDigest");
    await assertRefusedUploadNotStored(stack, "s3rver", "chunked-md5-header", 5);
  });

  test("an aws-chunked request with Content-Length: 0 is answered at once instead of hanging", async () => {
    for (const decoded of ["0", "5"]) {
      const path = `/data/no-framing-${decoded}`;
      const signed = signAsAlice(
        stack.endpoint,
        "PUT",
        path,
        [
          ["content-encoding", "aws-chunked"],
          ["x-amz-decoded-content-length", decoded],
          ["content-length", "0"],
        ],
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      );
      let timer: NodeJS.Timeout | undefined;
      const answer = await Promise.race([
        rawRequest(stack.endpoint, { method: "PUT", path, headers: signed.headers }),
        new Promise<"no answer">((resolve) => {
          timer = setTimeout(() => resolve("no answer"), 5_000);
        }),
      ]);
      clearTimeout(timer);
      assert.notEqual(
        answer,
        "no answer",
        `decoded length ${decoded}: no answer within 5 s (the exchange hangs)`,
      );
      if (answer !== "no answer") {
        assert.equal(answer.status, 400, answer.body);
        assert.equal(errorCode(answer.body), "IncompleteBody");
      }
    }
  });

  test("an x-amz-decoded-content-length beyond 5 GiB or past 2^53 is a client error, not a 500", async () => {
    for (const [decoded, code] of [
      ["5368709121", "EntityTooLarge"],
      ["9999999999999999", "InvalidArgument"],
    ] as const) {
      const res = await unsignedChunkedPut(stack, `huge-${decoded}`, "hello", [], decoded);
      assert.equal(res.status, 400, res.body);
      assert.equal(errorCode(res.body), code);
    }
  });
});

describe("the headers osp sends upstream (recorded in front of s3rver)", () => {
  const INSTANCE = "configured-instance-0001";
  let s3rver: S3rverUpstream;
  let proxy: { url: string; close(): Promise<void> };
  let worker: Worker;
  let endpoint = "";
  const recorded: Recorded[] = [];
  before(async () => {
    s3rver = await startS3rver({ buckets: ["data"] });
    proxy = await startRecordingProxy(s3rver.url, recorded);
    const config = compileConfig(
      `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  local:
    url: ${proxy.url}
    addressing: path
    auth: { type: hmac, accessKeyId: ${s3rver.accessKeyId}, secretAccessKey: ${s3rver.secretAccessKey} }
buckets:
  data: { endpoint: local }
  with-instance: { endpoint: local, instance: "${INSTANCE}" }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: [data, with-instance], actions: ["*"] }
`,
      "review",
      {},
    );
    worker = await startWorker(config, { log: createLogger({ level: "silent" }) });
    endpoint = `http://127.0.0.1:${worker.port}`;
  });
  after(async () => {
    await worker.close(2_000);
    await proxy.close();
    await s3rver.close();
  });

  /** Sends a GET signed by alice with `extra` headers added unsigned, and returns what reached the upstream. */
  async function sendGet(extra: Array<[string, string]>): Promise<Recorded> {
    const signed = signAsAlice(endpoint, "GET", "/data/x", [], "UNSIGNED-PAYLOAD");
    const before = recorded.length;
    await rawRequest(endpoint, { method: "GET", path: "/data/x", headers: [...signed.headers, ...extra] });
    assert.equal(recorded.length, before + 1, "the request reached the upstream");
    return recorded.at(-1)!;
  }

  test("a header the client names in Connection (hop-by-hop, RFC 9110 §7.6.1) is not forwarded", async () => {
    const seen = await sendGet([
      ["connection", "keep-alive, x-hop-secret"],
      ["x-hop-secret", "for the next hop only"],
    ]);
    assert.equal(seen.headers["x-hop-secret"], undefined, "x-hop-secret was forwarded upstream");
  });

  test("a client's own X-Forwarded-For / Forwarded do not reach the upstream as the client wrote them", async () => {
    // osp itself ignores these from an untrusted peer (source-ip.ts); the store should not be told them either.
    const seen = await sendGet([
      ["x-forwarded-for", "10.99.99.99"],
      ["forwarded", "for=10.99.99.99"],
    ]);
    assert.notEqual(seen.headers["x-forwarded-for"], "10.99.99.99", "forged X-Forwarded-For passed verbatim");
    assert.notEqual(seen.headers.forwarded, "for=10.99.99.99", "forged Forwarded passed verbatim");
  });

  test("CreateBucket sends the configured ibm-service-instance-id only, not the client's", async () => {
    const signed = signAsAlice(
      endpoint,
      "PUT",
      "/with-instance",
      [["content-length", "0"]],
      "UNSIGNED-PAYLOAD",
    );
    const before = recorded.length;
    await rawRequest(endpoint, {
      method: "PUT",
      path: "/with-instance",
      headers: [...signed.headers, ["ibm-service-instance-id", "someone-elses-instance"]],
    });
    assert.equal(recorded.length, before + 1, "the request reached the upstream");
    // Node joins repeated headers with ", ": two values upstream show as "client, configured".
    assert.equal(recorded.at(-1)!.headers["ibm-service-instance-id"], INSTANCE);
  });
});

describe("a store that refuses osp's own upstream credentials", () => {
  const UPSTREAM_KEY = "OSPUPSTREAMKEYWRONG1";
  let stack: Stack;
  let endpoint = "";
  before(async () => {
    stack = await startStack({ upstreamAccessKeyId: UPSTREAM_KEY });
    endpoint = stack.endpoint;
  });
  after(async () => {
    await stack.close();
  });

  test("answers InternalError of its own, without the store's account details", async () => {
    const signed = signAsAlice(endpoint, "GET", "/data/x", [], "UNSIGNED-PAYLOAD");
    const res = await rawRequest(endpoint, { method: "GET", path: "/data/x", headers: signed.headers });
    // s3rver answers 403 InvalidAccessKeyId naming the key osp signed with.
    assert.equal(res.status, 500, res.body);
    assert.equal(errorCode(res.body), "InternalError");
    assert.doesNotMatch(res.body, new RegExp(UPSTREAM_KEY));
    assert.doesNotMatch(res.body, /AWSAccessKeyId|StringToSign/);
  });
});

describe("IAM mode, a store that refuses a request for a reason other than the token", () => {
  let iam: FakeIamServer;
  let store: { url: string; close(): Promise<void> };
  let worker: Worker;
  before(async () => {
    iam = await startFakeIamServer();
    // Like IBM COS refusing to DELETE a WORM-protected (retention / legal hold) object: 403 AccessDenied with
    // whatever valid token comes.
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const body =
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
        res.writeHead(403, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    const port = await listenOnLoopback(server);
    store = { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
    const config = compileConfig(
      `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  cos:
    url: ${store.url}
    addressing: path
    auth: { type: iam, apiKey: osp-test-api-key, iamUrl: "${iam.url}" }
buckets:
  cos-data: { endpoint: cos }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["cos-*"], actions: ["*"] }
`,
      "review-iam",
      {},
    );
    worker = await startWorker(config, { log: createLogger({ level: "silent" }) });
  });
  after(async () => {
    await worker.close(2_000);
    await store.close();
    await iam.close();
  });

  test("ten refused DELETEs do not make osp ask IAM for a new token each time", async () => {
    const client = sdkClient(`http://127.0.0.1:${worker.port}`);
    try {
      for (let i = 0; i < 10; i++) {
        await rejectsWith(
          client.send(new DeleteObjectCommand({ Bucket: "cos-data", Key: "locked.txt" })),
          "AccessDenied",
          403,
        );
      }
    } finally {
      client.destroy();
    }
    // docs/architecture.md "Budgets": one token request per API key per refresh period, for the whole
    // cluster.
    assert.ok(
      iam.stats.tokensIssued <= 3,
      `a client's refused requests made osp fetch ${iam.stats.tokensIssued} IAM tokens`,
    );
  });
});
