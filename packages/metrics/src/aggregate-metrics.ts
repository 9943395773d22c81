/**
 * Merging the workers' snapshots into the cluster's view, with no cluster logic: the server collects the
 * snapshots over IPC and calls these pure functions. Counters and histograms are summed; each gauge uses the
 * aggregator it was declared with (in-flight summed, event-loop lag max, redis_up min).
 */
import { AggregatorRegistry, Registry } from "prom-client";
import type { MetricsSnapshot } from "./metrics-snapshot.js";

type PromJson = Parameters<typeof AggregatorRegistry.aggregate>[0][number];

/** One registry holding the merge of `snapshots` (any number, empty included). */
export function aggregateSnapshots(snapshots: readonly MetricsSnapshot[]): Registry {
  return AggregatorRegistry.aggregate(snapshots as unknown as PromJson[]) as Registry;
}

/**
 * The Prometheus text of the whole cluster: the workers' snapshots merged, followed by the primary's own
 * registry. `contentType` is Prometheus text format 0.0.4.
 */
export async function renderClusterMetrics(
  snapshots: readonly MetricsSnapshot[],
  primary: Registry,
): Promise<{ contentType: string; text: string }> {
  const merged = Registry.merge([aggregateSnapshots(snapshots), primary]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}

/**
 * Folds the last snapshot of a worker that is gone into `retired` (the counters and histograms of every
 * worker gone before it), so the cluster's counters never go down when a worker is replaced. Gauges are
 * dropped: they describe a process that no longer exists.
 */
export async function retireSnapshot(
  retired: MetricsSnapshot,
  last: MetricsSnapshot,
): Promise<MetricsSnapshot> {
  const cumulative = last.filter((m) => m.type === "counter" || m.type === "histogram");
  const merged = await aggregateSnapshots([retired, cumulative]).getMetricsAsJSON();
  return JSON.parse(JSON.stringify(merged)) as MetricsSnapshot;
}
