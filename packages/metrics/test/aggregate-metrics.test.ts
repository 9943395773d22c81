import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { describe, test } from "node:test";
import {
  aggregateSnapshots,
  CHANNELS,
  createPrimaryMetrics,
  createWorkerMetrics,
  type MetricsSnapshot,
  renderClusterMetrics,
  retireSnapshot,
} from "../src/index.js";

/**
 * A worker's snapshot after `durations.length` GetObject requests, with `inFlight` requests in flight and
 * Redis `up`. Workers are made one after the other: they all listen on the same process-wide channels.
 */
async function workerSnapshot(
  durations: number[],
  inFlight: number,
  redisUp: boolean,
): Promise<MetricsSnapshot> {
  const metrics = createWorkerMetrics({ bucketLabels: [], redis: true, inFlight: () => inFlight });
  try {
    for (const durationSeconds of durations) {
      diagnosticsChannel.channel(CHANNELS.gatewayRequest).publish({
        operation: "GetObject",
        method: "GET",
        status: 200,
        bucket: null,
        errorCode: null,
        refusedBy: null,
        bytesIn: 0,
        bytesOut: 10,
        durationSeconds,
        upstreamSeconds: 0,
      });
    }
    if (redisUp) diagnosticsChannel.channel(CHANNELS.cacheRedis).publish({ state: "up", error: null });
    return await metrics.snapshot();
  } finally {
    metrics.close();
  }
}

/** `name{labels} value` lines of a Prometheus text, as a map. */
function parseText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const GET = 'operation="GetObject",method="GET",status_class="2xx",bucket=""';

describe("metric aggregation across workers", () => {
  test("sums counters, merges histogram buckets and aggregates each gauge its own way", async () => {
    const a = await workerSnapshot([0.002, 0.3], 2, true);
    const b = await workerSnapshot([0.002, 0.002, 40], 5, false);
    const text = await aggregateSnapshots([a, b]).metrics();
    const series = parseText(text);
    assert.equal(series.get(`osp_requests_total{${GET}}`), 5);
    assert.equal(series.get("osp_sent_bytes_total"), 50);
    const bucket = (le: string) =>
      series.get(`osp_request_duration_seconds_bucket{le="${le}",operation="GetObject"}`);
    assert.equal(bucket("0.0025"), 3);
    assert.equal(bucket("0.5"), 4);
    assert.equal(bucket("30"), 4);
    assert.equal(bucket("60"), 5);
    assert.equal(bucket("+Inf"), 5);
    assert.equal(series.get('osp_request_duration_seconds_count{operation="GetObject"}'), 5);
    assert.ok(
      Math.abs(series.get('osp_request_duration_seconds_sum{operation="GetObject"}')! - 40.306) < 1e-9,
    );
    assert.equal(series.get("osp_in_flight_requests"), 7, "in flight: summed");
    assert.equal(series.get("osp_redis_up"), 0, "redis_up: the minimum, one worker is down");
    assert.match(text, /^# TYPE osp_request_duration_seconds histogram$/m);
  });

  test("takes the worst worker's event-loop lag", async () => {
    const lag = (value: number): MetricsSnapshot => [
      {
        name: "osp_event_loop_lag_seconds",
        help: "lag",
        type: "gauge",
        aggregator: "max",
        values: [{ value, labels: {} }],
      },
    ];
    const series = parseText(await aggregateSnapshots([lag(0.01), lag(0.25), lag(0.02)]).metrics());
    assert.equal(series.get("osp_event_loop_lag_seconds"), 0.25);
  });

  test("keeps a replaced worker's counters, so cluster counters never go down, and drops its gauges", async () => {
    const gone = await workerSnapshot([0.002, 0.002], 9, true);
    const retired = await retireSnapshot([], gone);
    assert.equal(
      retired.find((m) => m.name === "osp_in_flight_requests"),
      undefined,
      "gauges of a dead process are dropped",
    );
    const goneToo = await workerSnapshot([0.002], 1, true);
    const retiredBoth = await retireSnapshot(retired, goneToo);
    const live = await workerSnapshot([0.002], 4, true);
    const series = parseText(await aggregateSnapshots([retiredBoth, live]).metrics());
    assert.equal(series.get(`osp_requests_total{${GET}}`), 4);
    assert.equal(series.get('osp_request_duration_seconds_count{operation="GetObject"}'), 4);
    assert.equal(series.get("osp_in_flight_requests"), 4, "only the live worker's gauge");
    assert.equal(JSON.stringify(JSON.parse(JSON.stringify(retiredBoth))), JSON.stringify(retiredBoth));
  });

  test("renders the workers' merge and the primary's own metrics as Prometheus text 0.0.4", async () => {
    const primary = createPrimaryMetrics({ version: "1.2.3", node: "v20.0.0" });
    primary.setWorkers({ starting: 0, listening: 2, draining: 0, failed: 0 });
    primary.workerRestarted();
    primary.configReloaded("error");
    const a = await workerSnapshot([0.002], 0, true);
    const { contentType, text } = await renderClusterMetrics([a, a], primary.registry);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const series = parseText(text);
    assert.equal(series.get(`osp_requests_total{${GET}}`), 2);
    assert.equal(series.get('osp_workers{state="listening"}'), 2);
    assert.equal(series.get('osp_workers{state="failed"}'), 0);
    assert.equal(series.get("osp_worker_restarts_total"), 1);
    assert.equal(series.get('osp_config_reloads_total{result="error"}'), 1);
    assert.equal(series.get('osp_config_reloads_total{result="ok"}'), 0);
    assert.equal(series.get('osp_build_info{version="1.2.3",node="v20.0.0"}'), 1);
  });

  test("renders the primary's metrics alone when no worker answered", async () => {
    const primary = createPrimaryMetrics({ version: "1.2.3", node: "v20.0.0" });
    const { text } = await renderClusterMetrics([], primary.registry);
    assert.match(text, /^osp_worker_restarts_total 0$/m);
    assert.doesNotMatch(text, /osp_requests_total/);
  });
});
