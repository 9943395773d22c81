/**
 * SIGHUP: a config with problems is refused with every problem logged while the old one keeps serving; a
 * valid one is applied in place under load without a single failed request.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { type S3rverUpstream, startS3rver } from "@osp/testkit";
import { sdkClient } from "../e2e/harness.js";
import { baseYaml, type Cluster, metricSum, startCluster, waitUntil } from "./cluster-harness.js";
import { signedGet, startLoad } from "./load.js";

describe("osp serve: SIGHUP reload", () => {
  let upstream: S3rverUpstream;
  let cluster: Cluster;
  let yaml: (extra?: Parameters<typeof baseYaml>[2]) => string;
  let endpoint: string;

  before(async () => {
    upstream = await startS3rver({ buckets: ["data", "fresh-upstream"] });
    const direct = sdkClient(upstream.url, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    await direct.send(new PutObjectCommand({ Bucket: "data", Key: "small", Body: "old bucket\n" }));
    await direct.send(new PutObjectCommand({ Bucket: "fresh-upstream", Key: "small", Body: "new bucket\n" }));
    direct.destroy();
    cluster = await startCluster((ports) => {
      yaml = (extra) => baseYaml(ports, upstream.url, extra);
      return yaml();
    });
    endpoint = `http://127.0.0.1:${cluster.port}`;
  });

  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  test("refuses a config with problems, logs every one of them, and keeps serving the old one", async () => {
    // Three problems: an unknown key (a typo), a bad duration, a number below its minimum.
    cluster.writeConfig(
      yaml({ top: "wrokers: 3\nlimits: { idleTimeout: soon }\ncache: { l1MaxEntries: 5 }" }),
    );
    cluster.signal("SIGHUP");
    const summary = await cluster.waitForLog(
      (l) => l.msg === "new config rejected; still serving the previous config",
    );
    assert.equal(summary.problems, 3);
    const problems = cluster
      .logLines()
      .filter((l) => l.msg === "config problem")
      .map((l) => l.path)
      .sort();
    assert.deepEqual(problems, ["cache.l1MaxEntries", "limits.idleTimeout", "wrokers"]);
    assert.match(cluster.output(), /did you mean \\"workers\\"/);

    const ready = await cluster.waitReadyz((status) => status === 200);
    assert.equal(ready.config.generation, 1, "still the first config");
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => signedGet(endpoint, "/data/small", false)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(10).fill(200),
    );
    const metrics = (await cluster.admin("/metrics")).body;
    assert.match(metrics, /^osp_config_reloads_total\{result="error"\} 1$/m);
    assert.match(metrics, /^osp_config_reloads_total\{result="ok"\} 0$/m);
  });

  test("applies a changed bucket map under load with zero failed requests, and the new bucket works", async (t) => {
    const before = JSON.parse((await cluster.admin("/workers")).body) as { workers: Array<{ pid: number }> };
    const load = startLoad(endpoint, 8, () => "/data/small");
    let reloaded: Record<string, unknown>;
    let atReload: number;
    try {
      // Requests before the signal, during the reload, and a round on every lane after it.
      await waitUntil(() => load.outcomes.length >= 16, "requests before the signal");
      cluster.writeConfig(yaml({ buckets: "  fresh: { endpoint: local, upstreamBucket: fresh-upstream }" }));
      cluster.signal("SIGHUP");
      reloaded = await cluster.waitForLog((l) => l.msg === "config reloaded");
      atReload = load.outcomes.length;
      await waitUntil(() => load.outcomes.length >= atReload + 16, "requests after the reload");
    } finally {
      await load.stop();
    }
    const outcomes = load.outcomes;
    t.diagnostic(`${outcomes.length} requests, ${atReload} of them before the reload was done`);
    assert.equal(reloaded.kind, "in-place");
    assert.deepEqual(
      outcomes.filter((o) => o.status !== 200),
      [],
      "no request failed during the reload",
    );
    const ready = await cluster.waitReadyz((status) => status === 200);
    assert.equal(ready.config.generation, 3, "the rejected config used generation 2");
    assert.ok(ready.workers.processes.every((p) => p.generation === 3));
    const after = JSON.parse((await cluster.admin("/workers")).body) as { workers: Array<{ pid: number }> };
    assert.deepEqual(
      after.workers.map((w) => w.pid).sort(),
      before.workers.map((w) => w.pid).sort(),
      "applied in place: the same worker processes",
    );
    // Fresh connections reach both workers: every one of them serves the new bucket.
    const fresh = await Promise.all(
      Array.from({ length: 16 }, () => signedGet(endpoint, "/fresh/small", false)),
    );
    assert.deepEqual(
      fresh.map((a) => a.status),
      Array(16).fill(200),
    );
    assert.equal(new Set(fresh.map((a) => a.worker)).size, 2, "both workers answered");
    assert.equal(metricSum((await cluster.admin("/metrics")).body, "osp_config_reloads_total"), 2);
  });
});
