/**
 * Each worker's Redis state in /readyz and `osp_redis_up`: a Redis outage is reported, and the cluster
 * stays ready and keeps serving (workers fall back to their L1 caches and their own sources).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { type RedisServer, type S3rverUpstream, startRedis, startS3rver } from "@osp/testkit";
import { sdkClient } from "../e2e/harness.js";
import { baseYaml, type Cluster, startCluster } from "./cluster-harness.js";
import { signedGet } from "./load.js";

describe("osp serve with Redis", () => {
  let upstream: S3rverUpstream;
  let redis: RedisServer;
  let cluster: Cluster;

  before(async () => {
    upstream = await startS3rver({ buckets: ["data"] });
    const direct = sdkClient(upstream.url, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    await direct.send(new PutObjectCommand({ Bucket: "data", Key: "small", Body: "with redis\n" }));
    direct.destroy();
    redis = await startRedis();
    cluster = await startCluster((ports) =>
      baseYaml(ports, upstream.url, {
        top: `redis: { url: "${redis.url}", keyPrefix: "osp-cluster-test:" }`,
      }),
    );
  });

  after(async () => {
    await cluster?.stop();
    await redis?.stop();
    await upstream?.close();
  });

  test("reports Redis up, then down during an outage while still ready and serving, then up again", async () => {
    const endpoint = `http://127.0.0.1:${cluster.port}`;
    const states = (body: { redis: Array<{ state: string }> }) => body.redis.map((r) => r.state);
    const up = await cluster.waitReadyz((status, body) => status === 200 && states(body).join() === "up,up");
    assert.equal(up.redis.length, 2);
    assert.match((await cluster.admin("/metrics")).body, /^osp_redis_up 1$/m);

    await redis.kill();
    const down = await cluster.waitReadyz((_, body) => states(body).join() === "down,down");
    assert.equal(down.status, "ready", "a Redis outage does not take the cluster out of the load balancer");
    assert.match((await cluster.admin("/metrics")).body, /^osp_redis_up 0$/m);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => signedGet(endpoint, "/data/small", false)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(8).fill(200),
    );

    await redis.start();
    await cluster.waitReadyz((status, body) => status === 200 && states(body).join() === "up,up", 30_000);
    assert.match((await cluster.admin("/metrics")).body, /^osp_redis_up 1$/m);
  });
});
