import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { DeferredCounter, DeferredHistogram, SEPARATOR } from "../src/deferred-metrics.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, number]> = [
  ["GetObject", 0.0004],
  ["GetObject", 0.001],
  ["PutObject", 0.05],
  ["GetObject", 0.2],
  ["GetObject", 7],
  ["PutObject", 0.01],
];

test("a deferred histogram reads as the prom-client Histogram fed the same observations", async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const config = { name: "t_seconds", help: "h", labelNames: ["operation"], buckets: BUCKETS };
  const histogram = new Histogram({ ...config, registers: [theirs] });
  const deferred = new DeferredHistogram({ ...config, registers: [ours] });
  for (const [operation, v] of OBSERVATIONS) {
    histogram.observe({ operation }, v);
    deferred.observe(operation, v);
  }
  const json = async (r: Registry) => JSON.parse(JSON.stringify(await r.getMetricsAsJSON())) as unknown;
  assert.deepEqual(await json(ours), await json(theirs));
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test("a deferred counter reads as the prom-client Counter fed the same increments, at every read", async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const config = { name: "t_total", help: "h", labelNames: ["origin", "outcome"] };
  const counter = new Counter({ ...config, registers: [theirs] });
  const deferred = new DeferredCounter({ ...config, registers: [ours] });
  const add = (origin: string, outcome: string, by: number) => {
    counter.inc({ origin, outcome }, by);
    deferred.inc(origin + SEPARATOR + outcome, by);
  };
  add("http://a", "complete", 1);
  add("http://a", "error", 2);
  add("http://a", "complete", 3);
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  add("http://b", "complete", 1);
  add("http://a", "complete", 1);
  assert.equal(await ours.metrics(), await theirs.metrics());
});
