/**
 * A whole cluster at debug level, driven through every path that handles a secret (SigV4 headers,
 * presigned URLs good and tampered, a wrong client secret, HMAC re-signing, IBM IAM API key and tokens,
 * the admin token, a secret interpolated from the environment): none of those secrets appears anywhere
 * in what the cluster wrote, stdout and stderr of the primary and its workers together.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  type BearerCheckingUpstream,
  closeServer,
  type FakeIamServer,
  listenOnLoopback,
  type S3rverUpstream,
  startBearerCheckingUpstream,
  startFakeIamServer,
  startS3rver,
} from "@osp/testkit";
import { ALICE, sdkClient } from "../e2e/harness.js";
import { type Cluster, startCluster } from "./cluster-harness.js";
import { signedGet } from "./load.js";

const IAM_API_KEY = "iam-api-key-SECRET-7f3c9a1b2c3d";
const PLAIN_SECRET = "upstream-secret-SECRET-41d2e8f7";
const ADMIN_TOKEN = "admin-token-SECRET-9e8d7c6b5a";

describe("osp serve at debug level", () => {
  let upstream: S3rverUpstream;
  let iam: FakeIamServer;
  let store: BearerCheckingUpstream;
  let plain: ReturnType<typeof createServer>;
  let cluster: Cluster;
  const tokens = new Set<string>();

  before(async () => {
    upstream = await startS3rver({ buckets: ["data"] });
    iam = await startFakeIamServer({ validApiKeys: [IAM_API_KEY] });
    store = await startBearerCheckingUpstream({
      isValidToken(token) {
        tokens.add(token);
        return iam.isValidToken(token);
      },
    });
    // An HMAC upstream that checks nothing: the gateway re-signs for it with PLAIN_SECRET.
    plain = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-length": "2" }).end("ok"));
    });
    const plainPort = await listenOnLoopback(plain);
    cluster = await startCluster(
      (ports) => `
listen: { host: 127.0.0.1, port: ${ports.listen} }
admin: { host: 127.0.0.1, port: ${ports.admin}, token: ${ADMIN_TOKEN} }
workers: 2
logging: { level: info }
endpoints:
  local:
    url: ${upstream.url}
    auth: { type: hmac, accessKeyId: S3RVER, secretAccessKey: S3RVER }
  cos:
    url: ${store.url}
    auth: { type: iam, apiKey: ${IAM_API_KEY}, iamUrl: "${iam.url}" }
  plain:
    url: http://127.0.0.1:${plainPort}
    auth: { type: hmac, accessKeyId: PLAINKEY, secretAccessKey: "\${OSP_TEST_PLAIN_SECRET}" }
buckets:
  data: { endpoint: local }
  cos-data: { endpoint: cos }
  plain-data: { endpoint: plain }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: ["*"], actions: ["*"] }
`,
      { env: { OSP_LOG_LEVEL: "debug", OSP_TEST_PLAIN_SECRET: PLAIN_SECRET }, adminToken: ADMIN_TOKEN },
    );
  });

  after(async () => {
    await cluster?.stop();
    await closeServer(plain);
    await store?.close();
    await iam?.close();
    await upstream?.close();
  });

  test("never writes a secret key, API key, token or signature to its logs", async () => {
    const endpoint = `http://127.0.0.1:${cluster.port}`;
    const secrets = new Map<string, string>([
      ["client secret", ALICE.secretAccessKey],
      ["upstream secret (from the environment)", PLAIN_SECRET],
      ["IAM API key", IAM_API_KEY],
      ["admin token", ADMIN_TOKEN],
    ]);
    const s3 = sdkClient(endpoint);
    try {
      await s3.send(new PutObjectCommand({ Bucket: "data", Key: "k.txt", Body: "data" }));
      await s3.send(new PutObjectCommand({ Bucket: "cos-data", Key: "k.txt", Body: "cos" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: "cos-data", Key: "k.txt" }));
      assert.equal(await got.Body!.transformToString(), "cos");
      await s3.send(new PutObjectCommand({ Bucket: "plain-data", Key: "k.txt", Body: "plain" }));

      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "data", Key: "k.txt" }), {
        expiresIn: 300,
      });
      const signature = new URL(url).searchParams.get("X-Amz-Signature")!;
      secrets.set("presigned URL signature", signature);
      assert.equal((await fetch(url)).status, 200);
      const tampered = `${signature.slice(0, -4)}0000`;
      secrets.set("tampered presigned signature", tampered);
      assert.equal((await fetch(url.replace(signature, tampered))).status, 403);

      const ok = await signedGet(endpoint, "/data/k.txt", false);
      assert.equal(ok.status, 200);
    } finally {
      s3.destroy();
    }
    // A client with the wrong secret: SignatureDoesNotMatch.
    const WRONG = "wrong-secret-SECRET-0a1b2c3d4e";
    secrets.set("a wrong client secret", WRONG);
    const wrong = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: WRONG },
      maxAttempts: 1,
    });
    await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: "data", Key: "k.txt" })), {
      name: "SignatureDoesNotMatch",
    });
    wrong.destroy();
    assert.equal((await cluster.admin("/metrics")).status, 200);

    assert.ok(tokens.size > 0, "the store saw IAM tokens");
    for (const token of tokens) secrets.set("IAM token", token);
    const { code } = await cluster.stop();
    assert.equal(code, 0);

    const output = cluster.output();
    // The run really logged at debug level, through every worker and the primary.
    const lines = cluster.logLines();
    assert.ok(lines.some((l) => l.level === "debug" && l.msg === "upstream request"));
    assert.ok(lines.some((l) => l.level === "debug" && l.msg === "IAM token fetched"));
    assert.ok(lines.filter((l) => l.msg === "request").length >= 8, "access lines");
    for (const [what, secret] of secrets) {
      assert.ok(!output.includes(secret), `the ${what} appears in the logs`);
    }
    for (const fragment of ["AWS4-HMAC-SHA256 Credential=", "Signature=", "X-Amz-Credential", "Bearer "]) {
      assert.ok(
        !output.includes(fragment),
        `"${fragment}" (a header or query with credentials) appears in the logs`,
      );
    }
  });
});
