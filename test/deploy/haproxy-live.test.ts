/**
 * The HAProxy example (deploy/lb/haproxy.cfg) run for real in front of two `osp serve` instances that share
 * one Redis and one s3rver upstream: signed requests spread over both, and an instance sent SIGTERM answers
 * /readyz 503, leaves HAProxy's rotation, finishes what it was serving and exits, while no request through
 * HAProxy fails. Needs haproxy and redis-server (Debian packages) and the admin listener of `osp serve`.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { errorMessage } from "@osp/errors";
import { type RedisServer, type S3rverUpstream, startRedis, startS3rver } from "@osp/testkit";
import { rawRequest, signAsAlice } from "../e2e/harness.js";
import { findTool, labelsOf, METRICS, metricOf, metricUses, missing, readDeploy } from "./deploy-files.js";
import {
  adminGet,
  type Haproxy,
  metricSum,
  type OspInstance,
  scratchDir,
  startHaproxy,
  startOsp,
  stopChild,
  waitFor,
} from "./lb-stack.js";

const haproxyBin = findTool("haproxy");
const skip =
  haproxyBin === null ? missing("haproxy") : findTool("redis-server") ? false : missing("redis-server");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const CONCURRENCY = 4;

/** Signed PUT-then-GET round trips through `url` in `CONCURRENCY` loops; every non-200 is a failure. */
class Traffic {
  ok = 0;
  readonly failures: string[] = [];
  #stopped = false;
  readonly #loops: Promise<void>[];

  constructor(readonly url: string) {
    this.#loops = Array.from({ length: CONCURRENCY }, (_, n) => this.#loop(n));
  }

  async #loop(n: number): Promise<void> {
    for (let i = 0; !this.#stopped; i++) {
      const path = `/data/lb/${n}-${i}`;
      // ASCII, so the harness's text body compares byte for byte.
      const body = Buffer.from(randomBytes(512).toString("hex"));
      await this.#send("PUT", path, body, () => true);
      await this.#send("GET", path, undefined, (got) => got === body.toString());
    }
  }

  async #send(method: string, path: string, body: Buffer | undefined, good: (body: string) => boolean) {
    const extra: Array<[string, string]> = body ? [["content-length", String(body.length)]] : [];
    const { headers } = signAsAlice(this.url, method, path, extra, sha256(body ?? Buffer.alloc(0)));
    try {
      const res = await rawRequest(this.url, { method, path, headers, ...(body ? { body } : {}) });
      if (res.status === 200 && good(res.body)) this.ok++;
      else this.failures.push(`${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`);
    } catch (err) {
      this.failures.push(`${method} ${path}: ${errorMessage(err)}`);
    }
  }

  /** Resolves once `count` more requests have succeeded. */
  async more(count: number): Promise<void> {
    const target = this.ok + count;
    await waitFor(`${count} more requests through HAProxy`, 20_000, async () =>
      this.ok >= target ? true : null,
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }
}

/** A PUT straight to one instance that sends half its body and waits: a request in flight during the drain. */
function startSlowPut(instance: OspInstance): { finish(): void; status: Promise<number> } {
  const url = `http://127.0.0.1:${instance.s3Port}`;
  const body = randomBytes(256 * 1024);
  const path = "/data/lb/slow-upload";
  const { headers } = signAsAlice(url, "PUT", path, [["content-length", String(body.length)]], sha256(body));
  const req = request({
    host: "127.0.0.1",
    port: instance.s3Port,
    method: "PUT",
    path,
    agent: false,
    headers: headers.flat() as unknown as Record<string, string>,
  });
  const status = new Promise<number>((resolve, reject) => {
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
  });
  req.write(body.subarray(0, body.length / 2));
  return { finish: () => req.end(body.subarray(body.length / 2)), status };
}

describe("the HAProxy example in front of two osp instances sharing Redis", { skip }, () => {
  let dir: ReturnType<typeof scratchDir> | undefined;
  let redis: RedisServer | undefined;
  let upstream: S3rverUpstream | undefined;
  const instances: OspInstance[] = [];
  let lb: Haproxy | undefined;

  before(async () => {
    dir = scratchDir();
    redis = await startRedis();
    upstream = await startS3rver({ buckets: ["data"] });
    for (const name of ["osp1", "osp2"])
      instances.push(await startOsp({ redisUrl: redis.url, upstream, dir: dir.path, name }));
    for (const o of instances) {
      // The S3 port is up; the admin listener must answer /readyz too (a missing one fails the suite).
      await waitFor("/readyz 200", 20_000, async () =>
        (await adminGet(`${o.admin}/readyz`))?.status === 200 ? 1 : null,
      );
    }
    lb = await startHaproxy(haproxyBin!, instances, dir.path);
    await waitFor("both servers UP in HAProxy", 10_000, async () => {
      const s = await lb!.serverStatus();
      return s.osp1 === "UP" && s.osp2 === "UP" ? s : null;
    });
  });

  after(async () => {
    await stopChild(lb);
    for (const o of instances) await stopChild(o);
    await upstream?.close();
    await redis?.stop();
    dir?.remove();
  });

  test("spreads signed requests over both, and takes an instance sent SIGTERM out with no failed request", async (t) => {
    const [osp1, osp2] = instances as [OspInstance, OspInstance];
    const traffic = new Traffic(lb!.url);
    try {
      await traffic.more(200);
      const served = [
        await metricSum(osp1, "osp_requests_total"),
        await metricSum(osp2, "osp_requests_total"),
      ];
      const total = served[0]! + served[1]!;
      assert.ok(total >= 200, `both instances count the requests: ${served}`);
      for (const n of served) assert.ok(n >= total * 0.1, `each instance serves a share: ${served}`);

      // A request in flight on osp1 keeps it draining long enough to watch it leave the rotation.
      const slow = startSlowPut(osp1);
      await waitFor("the slow upload in flight on osp1", 5_000, async () =>
        (await metricSum(osp1, "osp_in_flight_requests")) >= 1 ? true : null,
      );
      osp1.process.kill("SIGTERM");
      const readyz = await waitFor("osp1 /readyz 503", 5_000, async () => {
        const r = await adminGet(`${osp1.admin}/readyz`);
        return r?.status === 503 ? r : null;
      });
      assert.match(readyz.body, /draining/);
      await waitFor("HAProxy marking osp1 DOWN", 5_000, async () =>
        (await lb!.serverStatus()).osp1?.startsWith("DOWN") ? true : null,
      );
      // osp2's count first: requests finishing between the two reads then count for osp2, never against it.
      const osp2AtDown = await metricSum(osp2, "osp_requests_total");
      const okAtDown = traffic.ok;
      await traffic.more(100);

      // The drain waited for the upload, which completes; then osp1 exits cleanly.
      slow.finish();
      assert.equal(await slow.status, 200, osp1.output());
      assert.equal(await osp1.exited, 0, osp1.output());
      await traffic.more(100);
      await traffic.stop();
      assert.deepEqual(traffic.failures, [], `failed requests through HAProxy\n${osp1.output()}`);
      const afterDown = (await metricSum(osp2, "osp_requests_total")) - osp2AtDown;
      t.diagnostic(
        `before SIGTERM: osp1 ${served[0]}, osp2 ${served[1]} requests; after osp1 left: ${afterDown}`,
      );
      assert.ok(
        afterDown >= traffic.ok - okAtDown - CONCURRENCY,
        `osp2 served what came after osp1 left: ${afterDown} of ${traffic.ok - okAtDown}`,
      );
    } finally {
      await traffic.stop();
    }
  });

  test("a running instance exports every metric the dashboard and alerts use, with their labels", async () => {
    const osp2 = instances[1]!;
    const res = await adminGet(`${osp2.admin}/metrics`);
    assert.equal(res?.status, 200);
    const text = res!.body;
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const used = new Set(
      ["grafana/osp-dashboard.json", "prometheus/alerts.yml"].flatMap((f) =>
        metricUses(readDeploy(f)).map((u) => metricOf(u.series)!),
      ),
    );
    for (const metric of used) {
      const expected = METRICS[metric]?.histogram
        ? "histogram"
        : /_total$/.test(metric)
          ? "counter"
          : "gauge";
      assert.equal(types.get(metric), expected, `${metric} is exported as a ${expected}`);
    }
    for (const m of text.matchAll(/^(osp_[a-z0-9_]+)\{([^}]*)\} /gm)) {
      if (metricOf(m[1]!) === null) continue;
      for (const label of [...m[2]!.matchAll(/([a-z_]+)="/g)].map((x) => x[1]!))
        assert.ok(labelsOf(m[1]!).includes(label), `${m[1]} has the documented label ${label}`);
    }
  });
});
