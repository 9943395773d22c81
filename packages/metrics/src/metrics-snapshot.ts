/**
 * A registry's metrics as plain data (prom-client's `getMetricsAsJSON()` shape): what a worker sends to the
 * primary over IPC. JSON-safe: label values are strings or numbers, values are finite numbers.
 */
export interface MetricValueJson {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** For histograms: `<name>_bucket`, `<name>_sum` or `<name>_count`. */
  readonly metricName?: string;
}

export interface MetricJson {
  readonly name: string;
  readonly help: string;
  /** `counter`, `gauge`, `histogram` or `summary`. */
  readonly type: string;
  /** How the primary merges this metric across workers: `sum`, `max`, `min`… (prom-client aggregators). */
  readonly aggregator: string;
  readonly values: readonly MetricValueJson[];
}

export type MetricsSnapshot = readonly MetricJson[];
