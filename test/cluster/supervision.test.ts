/**
 * The process model through the real CLI: two workers sharing one port, the admin listener, a worker
 * killed under load and replaced, and the crash-loop guard.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { freePort, type S3rverUpstream, startS3rver } from "@osp/testkit";
import { sdkClient } from "../e2e/harness.js";
import {
  baseYaml,
  type Cluster,
  metricSum,
  type ReadyzBody,
  sleep,
  startCluster,
} from "./cluster-harness.js";
import { type Load, type Outcome, signedGet, startLoad } from "./load.js";

const TOKEN = "admin-token-0123456789abcdef";

/** The request-id prefix of the worker with this pid, from its access log lines. */
async function prefixOf(cluster: Cluster, pid: number): Promise<string> {
  // Access lines are written asynchronously: wait for the worker's first one.
  const line = await cluster.waitForLog((l) => l.pid === pid && l.msg === "request", 5_000);
  return String(line.requestId).slice(0, 8);
}

describe("osp serve: workers, admin listener and supervision", () => {
  let upstream: S3rverUpstream;
  let cluster: Cluster;
  let endpoint: string;

  before(async () => {
    upstream = await startS3rver({ buckets: ["data"] });
    const direct = sdkClient(upstream.url, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    await direct.send(new PutObjectCommand({ Bucket: "data", Key: "small", Body: "hello cluster\n" }));
    direct.destroy();
    cluster = await startCluster((ports) => baseYaml(ports, upstream.url, { adminToken: TOKEN }), {
      adminToken: TOKEN,
    });
    endpoint = `http://127.0.0.1:${cluster.port}`;
  });

  after(async () => {
    await cluster?.stop();
    await upstream?.close();
  });

  test("counts exactly N requests in /metrics after N requests spread over both workers", async () => {
    const n = 40;
    const outcomes: Outcome[] = [];
    // Fresh connections, 8 at a time: SO_REUSEPORT hashes each new connection to one of the listeners.
    for (let i = 0; i < n; i += 8) {
      outcomes.push(
        ...(await Promise.all(Array.from({ length: 8 }, () => signedGet(endpoint, "/data/small", false)))),
      );
    }
    assert.deepEqual(
      outcomes.filter((o) => o.status !== 200),
      [],
    );
    const metrics = await cluster.admin("/metrics");
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    assert.equal(metricSum(metrics.body, "osp_requests_total"), n);
    assert.equal(metricSum(metrics.body, "osp_request_duration_seconds_count"), n);
    assert.match(metrics.body, /^osp_workers\{state="listening"\} 2$/m);
    assert.match(metrics.body, /^osp_build_info\{version="[^"]+",node="v\d+\.\d+\.\d+"\} 1$/m);

    const workers = JSON.parse((await cluster.admin("/workers")).body) as {
      workers: Array<{ pid: number; requests: number }>;
    };
    assert.equal(workers.workers.length, 2);
    const perWorker = workers.workers.map((w) => w.requests);
    assert.equal(
      perWorker.reduce((a, b) => a + b, 0),
      n,
    );
    assert.ok(
      perWorker.every((r) => r > 0),
      `each worker took a share of the connections: ${perWorker}`,
    );
    const answeredBy = new Set(outcomes.map((o) => o.worker));
    assert.equal(answeredBy.size, 2, "the clients saw two different workers' request ids");
    // Workers run with osp's young generation size (docs/operations.md "Memory").
    for (const { pid } of workers.workers) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      assert.ok(argv.includes("--max-semi-space-size=8") && argv.includes("--expose-gc"), argv.join(" "));
    }
  });

  test("answers 401 on the admin listener without the bearer token, and 200 with it", async () => {
    for (const path of ["/metrics", "/readyz", "/healthz", "/workers"]) {
      assert.equal((await cluster.admin(path, "")).status, 401, `${path} without a token`);
      assert.equal(
        (await cluster.admin(path, "not-the-admin-token-at-all")).status,
        401,
        `${path} wrong token`,
      );
      assert.equal((await cluster.admin(path, TOKEN)).status, 200, `${path} with the token`);
    }
    const healthz = await cluster.admin("/healthz");
    assert.equal(healthz.body, "ok\n");
  });

  test("replaces a worker killed under load; requests on the other worker do not fail", async (t) => {
    const loads: Load[] = [];
    let victim: { slot: number; pid: number };
    let victimPrefix: string;
    let survivorPrefix: string;
    let lanesAtKill: Array<{ lane: readonly Outcome[]; at: number; worker: string | null | undefined }>;
    let ready: ReadyzBody;
    try {
      // Lanes until both workers hold some of the keep-alive connections.
      for (let i = 0; i < 4; i++) {
        loads.push(startLoad(endpoint, 6, () => "/data/small"));
        await sleep(300);
        if (new Set(loads.flatMap((l) => l.outcomes.map((o) => o.worker))).size === 2) break;
      }
      const workers = JSON.parse((await cluster.admin("/workers")).body) as {
        workers: Array<{ slot: number; pid: number }>;
      };
      victim = workers.workers.find((w) => w.slot === 0)!;
      victimPrefix = await prefixOf(cluster, victim.pid);
      survivorPrefix = await prefixOf(cluster, workers.workers.find((w) => w.slot === 1)!.pid);
      const seen = new Set(loads.flatMap((l) => l.outcomes.map((o) => o.worker)));
      assert.ok(seen.has(victimPrefix) && seen.has(survivorPrefix), "both workers hold connections");

      // Which worker each lane's keep-alive connection is on when the worker dies.
      lanesAtKill = loads.flatMap((l) =>
        l.lanes.map((lane) => ({ lane, at: lane.length, worker: lane.at(-1)?.worker })),
      );
      process.kill(victim.pid, "SIGKILL");
      ready = await cluster.waitReadyz(
        (status, body) =>
          status === 200 &&
          body.workers.listening === 2 &&
          body.workers.processes.some((p) => p.slot === 0 && p.pid !== victim.pid && p.state === "listening"),
      );
      await sleep(300);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }

    const all = loads.flatMap((l) => l.outcomes);
    t.diagnostic(
      `${all.length} requests, ${all.filter((o) => o.status !== 200).length} failed (killed worker)`,
    );
    for (const { lane, at, worker } of lanesAtKill) {
      const failures = lane.filter((o) => o.status !== 200);
      if (worker === survivorPrefix) {
        assert.deepEqual(failures, [], "a connection to the surviving worker never fails");
        continue;
      }
      assert.equal(worker, victimPrefix);
      // A lane on the killed worker may lose the request in flight on it, and one more if its reconnect
      // raced the kill (the kernel may queue a new connection on the dying listener). Never an HTTP error.
      assert.ok(failures.length <= 2, `a lane on the killed worker failed ${failures.length} times`);
      for (const f of failures) assert.equal(f.status, null, `an HTTP answer ${f.status} is a real failure`);
      assert.ok(
        lane.slice(at).some((o) => o.status === 200),
        "the lane got answers again after the kill",
      );
    }
    assert.ok(
      lanesAtKill.some((l) => l.worker === survivorPrefix && l.lane.length > l.at),
      "the other worker kept serving",
    );
    assert.ok(
      lanesAtKill.some((l) => l.worker === victimPrefix),
      "a lane was on the killed worker",
    );

    assert.equal(ready.workers.expected, 2);
    const restarted = await cluster.waitForLog((l) => l.msg === "worker exited unexpectedly; restarting it");
    assert.equal(restarted.signal, "SIGKILL");
    assert.equal(restarted.workerPid, victim.pid);
    assert.equal(restarted.slot, 0);
    assert.equal(metricSum((await cluster.admin("/metrics")).body, "osp_worker_restarts_total"), 1);

    // The new worker takes its share of new connections.
    const fresh = await Promise.all(
      Array.from({ length: 20 }, () => signedGet(endpoint, "/data/small", false)),
    );
    assert.deepEqual(
      fresh.filter((o) => o.status !== 200),
      [],
    );
    const replacement = ready.workers.processes.find((p) => p.slot === 0)!;
    const replacementPrefix = await prefixOf(cluster, replacement.pid);
    assert.ok(
      fresh.some((o) => o.worker === replacementPrefix),
      "the replacement serves requests",
    );
  });
});

describe("osp serve: crash-loop guard", () => {
  test("stops restarting a worker that cannot start, says so, and /readyz reports degraded", async () => {
    // A port held by a socket without SO_REUSEPORT: every worker fails to listen, at once, every time.
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    const cluster = await startCluster(
      (ports) => baseYaml({ ...ports, listen: port }, "http://127.0.0.1:9", { workers: 1 }),
      { waitReady: false },
    );
    try {
      const degraded = await cluster.waitReadyz(
        (status, body) => status === 503 && body.workers.failed === 1,
        30_000,
      );
      assert.equal(degraded.status, "degraded");
      assert.equal(degraded.workers.listening, 0);
      // Logs are written asynchronously: the line may reach stdout a moment after /readyz changed.
      const crashLines = () =>
        cluster
          .logLines()
          .filter((l) => typeof l.msg === "string" && l.msg.startsWith("worker is crash-looping"));
      for (let i = 0; i < 50 && crashLines().length === 0; i++) await sleep(20);
      const givenUp = crashLines();
      assert.deepEqual(
        givenUp.map((l) => [l.slot, l.crashes]),
        [[0, 6]],
        "one line: more than 5 crashes within 60 s",
      );
      assert.match(cluster.output(), /cannot listen on 127\.0\.0\.1/);
      const metrics = await cluster.admin("/metrics");
      assert.equal(metricSum(metrics.body, "osp_worker_restarts_total"), 5, "5 restarts, then none");
      assert.match(metrics.body, /^osp_workers\{state="failed"\} 1$/m);
      assert.equal((await cluster.admin("/healthz")).status, 200, "the primary itself is alive");
    } finally {
      const { code } = await cluster.stop();
      assert.equal(code, 0);
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
