/**
 * The S3 listener over TLS (`listen.tls`), through a two-worker cluster: signed HTTPS requests, and a
 * certificate renewed in place (same file names) picked up on SIGHUP by a rolling replacement of the
 * workers under load.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect } from "node:tls";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { type S3rverUpstream, startS3rver } from "@osp/testkit";
import { sdkClient } from "../e2e/harness.js";
import { baseYaml, type Cluster, startCluster, waitUntil } from "./cluster-harness.js";
import { signedGet, startLoad } from "./load.js";

/** A self-signed certificate for 127.0.0.1 (EC P-256: fast to make) written to `cert.pem`/`key.pem`. */
function makeCertificate(dir: string, name: string): string {
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return readFileSync(cert, "utf8");
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the port is shown. */
function presentedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}

describe("osp serve over TLS", () => {
  let upstream: S3rverUpstream;
  let cluster: Cluster;
  let first: string;

  before(async () => {
    upstream = await startS3rver({ buckets: ["data"] });
    const direct = sdkClient(upstream.url, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    await direct.send(new PutObjectCommand({ Bucket: "data", Key: "small", Body: "over tls\n" }));
    direct.destroy();
    cluster = await startCluster((ports) => {
      first = makeCertificate(ports.dir, "osp-first");
      const tls = `tls: { cert: ${join(ports.dir, "cert.pem")}, key: ${join(ports.dir, "key.pem")} }`;
      // Drained workers close their last connections after 2 s (see the rollover test).
      return baseYaml(ports, upstream.url, { drainTimeout: "2s" }).replace(
        `listen: { host: 127.0.0.1, port: ${ports.listen} }`,
        `listen: { host: 127.0.0.1, port: ${ports.listen}, ${tls} }`,
      );
    });
  });

  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  test("serves signed requests over HTTPS with the configured certificate", async () => {
    const endpoint = `https://127.0.0.1:${cluster.port}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => signedGet(endpoint, "/data/small", false, undefined, first)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(8).fill(200),
    );
    assert.equal(await presentedFingerprint(cluster.port, first), new X509Certificate(first).fingerprint256);
  });

  test("picks up a renewed certificate on SIGHUP by replacing the workers one at a time under load", async (t) => {
    const endpoint = `https://127.0.0.1:${cluster.port}`;
    const before = await cluster.waitReadyz((status) => status === 200);
    const renewed = makeCertificate(cluster.dir, "osp-renewed");
    const both = first + renewed;
    const load = startLoad(endpoint, 6, () => "/data/small", both);
    let reloaded: Record<string, unknown>;
    try {
      // Requests before the signal, during the rollover, and a round on every lane after it.
      await waitUntil(() => load.outcomes.length >= 12, "requests before the signal");
      cluster.signal("SIGHUP");
      reloaded = await cluster.waitForLog((l) => l.msg === "config reloaded");
      const atReload = load.outcomes.length;
      await waitUntil(() => load.outcomes.length >= atReload + 12, "requests after the reload");
    } finally {
      await load.stop();
    }
    assert.equal(reloaded.kind, "rolling");
    const oldPids = new Set(before.workers.processes.map((p) => p.pid));
    const oldWorkers = new Set(
      cluster
        .logLines()
        .filter((l) => l.msg === "request" && oldPids.has(Number(l.pid)))
        .map((l) => String(l.requestId).slice(0, 8)),
    );
    const failures = load.outcomes.filter((o) => o.status !== 200).length;
    t.diagnostic(`${load.outcomes.length} requests during the rollover, ${failures} connection errors`);
    // No HTTP error, and never a failure on a connection a new worker answered. A replaced worker serves its
    // kept-alive connections until its drain deadline and then closes them: the request in flight on one at
    // that moment fails. A lane may meet that on both old workers (when the second new worker took longer to
    // start than the first one's deadline), and a reconnect may land on an old listener as it closes (`null`:
    // no answer on it yet). Streamed responses of a draining worker do not carry `Connection: close` yet
    // (packages/http); with it, clients would move to the new workers at their next request.
    for (const lane of load.lanes) {
      const failed = lane.filter((o) => o.status !== 200);
      assert.ok(failed.length <= 2, `a connection failed ${failed.length} times`);
      for (const f of failed) {
        assert.equal(f.status, null, `HTTP error ${f.status} during the rollover`);
        assert.ok(
          f.worker === null || oldWorkers.has(f.worker),
          `a failure on a new worker's connection: ${f.error}`,
        );
      }
    }

    const after = await cluster.waitReadyz(
      (status, body) => status === 200 && body.workers.processes.every((p) => !oldPids.has(p.pid)),
    );
    assert.equal(after.workers.listening, 2, "every worker was replaced, and the old ones are gone");
    const expected = new X509Certificate(renewed).fingerprint256;
    for (let i = 0; i < 8; i++) assert.equal(await presentedFingerprint(cluster.port, both), expected);
    const fresh = await signedGet(endpoint, "/data/small", false, undefined, renewed);
    assert.equal(fresh.status, 200);
  });
});
