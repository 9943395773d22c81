import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { describe, test } from "node:test";
import { CHANNELS, createWorkerMetrics, type MetricsSnapshot } from "../src/index.js";

function request(overrides: Record<string, unknown> = {}) {
  return {
    operation: "GetObject",
    method: "GET",
    status: 200,
    bucket: "data",
    errorCode: null,
    refusedBy: null,
    bytesIn: 0,
    bytesOut: 100,
    durationSeconds: 0.003,
    upstreamSeconds: 0.001,
    ...overrides,
  };
}

const publish = (name: string, event: unknown) => diagnosticsChannel.channel(name).publish(event);

/** The values of metric `name` (or of one of its histogram series) as `labels-json → value`. */
function values(snapshot: MetricsSnapshot, name: string, metricName = name): Map<string, number> {
  const metric = snapshot.find((m) => m.name === name);
  assert.ok(metric, `${name} is exported`);
  const out = new Map<string, number>();
  for (const v of metric.values) {
    if ((v.metricName ?? name) === metricName) out.set(JSON.stringify(v.labels), v.value);
  }
  return out;
}

describe("worker metrics", () => {
  test("counts each gateway request once with bounded operation, method, status class and bucket labels", async (t) => {
    const metrics = createWorkerMetrics({ bucketLabels: ["data"], redis: false, inFlight: () => 3 });
    t.after(() => metrics.close());
    publish(CHANNELS.gatewayRequest, request());
    publish(CHANNELS.gatewayRequest, request({ bucket: "somebody-elses-bucket", method: "BREW", status: 0 }));
    publish(CHANNELS.gatewayRequest, request({ bucket: null, operation: "ListBuckets", status: 403 }));
    publish(
      CHANNELS.gatewayRequest,
      request({ status: 403, errorCode: "SignatureDoesNotMatch", refusedBy: "authenticate", bytesIn: 50 }),
    );
    const snapshot = await metrics.snapshot();
    const requests = values(snapshot, "osp_requests_total");
    const key = (operation: string, method: string, statusClass: string, bucket: string) =>
      JSON.stringify({ operation, method, status_class: statusClass, bucket });
    assert.equal(requests.get(key("GetObject", "GET", "2xx", "data")), 1);
    assert.equal(requests.get(key("GetObject", "other", "aborted", "other")), 1);
    assert.equal(requests.get(key("ListBuckets", "GET", "4xx", "")), 1);
    assert.equal(requests.get(key("GetObject", "GET", "4xx", "data")), 1);
    assert.equal(requests.size, 4);
    assert.equal(metrics.requestCount(), 4);
    assert.deepEqual(
      [...values(snapshot, "osp_auth_failures_total")],
      [[JSON.stringify({ phase: "authenticate", reason: "SignatureDoesNotMatch" }), 1]],
    );
    assert.equal(values(snapshot, "osp_received_bytes_total").get("{}"), 50);
    assert.equal(values(snapshot, "osp_sent_bytes_total").get("{}"), 400);
    assert.equal(values(snapshot, "osp_in_flight_requests").get("{}"), 3);
    const count = values(snapshot, "osp_request_duration_seconds", "osp_request_duration_seconds_count");
    assert.equal(count.get(JSON.stringify({ operation: "GetObject" })), 3);
    assert.equal(
      snapshot.find((m) => m.name === "osp_redis_up"),
      undefined,
      "no Redis configured: no redis_up",
    );
  });

  test("applies a reloaded bucket allow-list to the requests counted after it", async (t) => {
    const metrics = createWorkerMetrics({ bucketLabels: [], redis: false, inFlight: () => 0 });
    t.after(() => metrics.close());
    publish(CHANNELS.gatewayRequest, request());
    metrics.setBucketLabels(["data"]);
    publish(CHANNELS.gatewayRequest, request());
    const requests = values(await metrics.snapshot(), "osp_requests_total");
    const bucket = (b: string) =>
      JSON.stringify({ operation: "GetObject", method: "GET", status_class: "2xx", bucket: b });
    assert.equal(requests.get(bucket("other")), 1);
    assert.equal(requests.get(bucket("data")), 1);
  });

  test("turns upstream, IAM, HTTP, cache, Redis and pool events into their metrics", async (t) => {
    const metrics = createWorkerMetrics({ bucketLabels: [], redis: true, inFlight: () => 0 });
    t.after(() => metrics.close());
    assert.equal(values(await metrics.snapshot(), "osp_redis_up").get("{}"), 0, "0 until the cache says up");
    const origin = "http://127.0.0.1:9000";
    publish(CHANNELS.upstreamRequest, { origin, status: 200, headersMs: 20, outcome: "complete" });
    publish(CHANNELS.upstreamRequest, { origin, status: 0, headersMs: -1, outcome: "error" });
    publish(CHANNELS.iamToken, { outcome: "ok", background: true });
    publish(CHANNELS.httpRejected, { reason: "header-too-large" });
    publish(CHANNELS.cacheLookup, { cache: "authz", tier: "l1", hit: false });
    publish(CHANNELS.cacheLookup, { cache: "authz", tier: "l2", hit: true });
    publish(CHANNELS.cacheRedis, { state: "up", error: null });
    publish(CHANNELS.verifyPool, { queueLength: 4, waitSeconds: 0.002 });
    const snapshot = await metrics.snapshot();
    const upstream = values(snapshot, "osp_upstream_requests_total");
    assert.equal(upstream.get(JSON.stringify({ origin, outcome: "complete", status_class: "2xx" })), 1);
    assert.equal(upstream.get(JSON.stringify({ origin, outcome: "error", status_class: "aborted" })), 1);
    const headers = values(snapshot, "osp_upstream_duration_seconds", "osp_upstream_duration_seconds_count");
    assert.equal(headers.get(JSON.stringify({ origin })), 1, "only responses with headers are timed");
    assert.equal(
      values(snapshot, "osp_iam_token_fetches_total").get(
        JSON.stringify({ result: "ok", background: "true" }),
      ),
      1,
    );
    assert.equal(
      values(snapshot, "osp_http_rejected_total").get(JSON.stringify({ reason: "header-too-large" })),
      1,
    );
    const cache = values(snapshot, "osp_cache_requests_total");
    assert.equal(cache.get(JSON.stringify({ cache: "authz", tier: "l1", result: "miss" })), 1);
    assert.equal(cache.get(JSON.stringify({ cache: "authz", tier: "l2", result: "hit" })), 1);
    assert.equal(values(snapshot, "osp_redis_up").get("{}"), 1);
    assert.equal(values(snapshot, "osp_verify_pool_queue_length").get("{}"), 4);
    const lag = values(snapshot, "osp_event_loop_lag_seconds").get("{}");
    assert.ok(lag !== undefined && Number.isFinite(lag) && lag >= 0, `lag ${lag}`);
  });

  test("counts nothing once closed", async () => {
    const metrics = createWorkerMetrics({ bucketLabels: [], redis: false, inFlight: () => 0 });
    metrics.close();
    publish(CHANNELS.gatewayRequest, request());
    assert.equal(metrics.requestCount(), 0);
    assert.equal(values(await metrics.snapshot(), "osp_requests_total").size, 0);
  });
});
