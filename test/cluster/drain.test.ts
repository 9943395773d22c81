/**
 * SIGTERM while a 64 MiB upload is in flight: the cluster stops accepting and reports not-ready at once,
 * lets the upload finish, and exits 0.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type S3rverUpstream, startS3rver } from "@osp/testkit";
import { sdkClient, signAsAlice } from "../e2e/harness.js";
import { baseYaml, type Cluster, sleep, startCluster } from "./cluster-harness.js";

const MiB = 1024 * 1024;

/** True when a TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

describe("osp serve: SIGTERM drain", () => {
  let upstream: S3rverUpstream;
  let cluster: Cluster;

  before(async () => {
    upstream = await startS3rver({ buckets: ["data"] });
    cluster = await startCluster((ports) => baseYaml(ports, upstream.url));
  });

  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  test("finishes a 64 MiB upload in flight, reports not ready meanwhile, then exits 0", async () => {
    const body = randomBytes(64 * MiB);
    const sha256 = createHash("sha256").update(body).digest("hex");
    const endpoint = `http://127.0.0.1:${cluster.port}`;
    const path = "/data/drained.bin";
    const signed = signAsAlice(endpoint, "PUT", path, [["content-length", String(body.length)]], sha256);
    let sent = 0;
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: cluster.port,
          method: "PUT",
          path,
          headers: signed.headers.flat() as unknown as Record<string, string>,
          agent: false,
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      // 1 MiB every 25 ms: about 1.6 s on the wire, long enough for the signal to land mid-upload.
      const writeNext = () => {
        if (sent >= body.length) return void req.end();
        req.write(body.subarray(sent, sent + MiB));
        sent += MiB;
        setTimeout(writeNext, 25);
      };
      writeNext();
    });

    while (sent < 8 * MiB) await sleep(5);
    cluster.signal("SIGTERM");
    const draining = await cluster.waitReadyz((status) => status === 503, 5_000);
    assert.equal(draining.status, "draining");
    assert.equal(draining.draining, true);
    assert.ok(sent < body.length, "the upload was still going when the drain began");
    // Both workers closed their listeners: new connections are refused while the upload goes on.
    for (let i = 0; !(await refused(cluster.port)); i++) {
      assert.ok(i < 100, "the S3 port still accepts connections during the drain");
      await sleep(20);
    }

    const { status, text } = await answer;
    assert.equal(status, 200, text);
    const { code, signal } = await cluster.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);

    const direct = sdkClient(upstream.url, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    const stored = await direct.send(new GetObjectCommand({ Bucket: "data", Key: "drained.bin" }));
    const bytes = Buffer.from(await stored.Body!.transformToByteArray());
    direct.destroy();
    assert.equal(bytes.length, body.length);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), sha256);
    const lines = cluster.logLines();
    assert.ok(
      lines.some(
        (l) => l.msg === "draining: not ready, finishing in-flight requests" && l.signal === "SIGTERM",
      ),
    );
    assert.ok(lines.some((l) => l.role === "primary" && l.msg === "stopped"));
  });
});
