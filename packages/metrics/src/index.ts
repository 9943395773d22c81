export { aggregateSnapshots, renderClusterMetrics, retireSnapshot } from "./aggregate-metrics.js";
export { createBucketLabeler, methodLabel, statusClass } from "./label-values.js";
export type { MetricJson, MetricsSnapshot, MetricValueJson } from "./metrics-snapshot.js";
export { createPrimaryMetrics, type PrimaryMetrics, type WorkerState } from "./primary-metrics.js";
export {
  CHANNELS,
  createWorkerMetrics,
  type WorkerMetrics,
  type WorkerMetricsOptions,
} from "./worker-metrics.js";
