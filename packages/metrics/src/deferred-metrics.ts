/**
 * Counters and histograms for the per-request metrics: a request adds to plain numbers in a Map (one
 * lookup by a string key), and the numbers become prom-client metrics only when the registry is read (a
 * scrape, the primary's collection). prom-client's own `inc(labels)` and `observe(labels, v)` hash and
 * validate the label object on every call, several µs a request. Names, labels, buckets and
 * values are prom-client's: the snapshot and the text are the same as before.
 *
 * A series key is its label values joined by `SEPARATOR`, in `labelNames` order; label values are bounded
 * names (label-values.ts), none holds the separator.
 */
import { Counter, type CounterConfiguration, type Registry } from "prom-client";

export const SEPARATOR = "\u0000";

function labelsOf(names: readonly string[], key: string): Record<string, string> {
  const values = key.split(SEPARATOR);
  const labels: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i] ?? "";
  return labels;
}

/** A prom-client Counter fed from plain numbers, which it takes in when collected. */
export class DeferredCounter {
  readonly #pending: Map<string, number>;

  constructor(config: CounterConfiguration<string>) {
    const pending = new Map<string, number>();
    const names = config.labelNames ?? [];
    this.#pending = pending;
    new Counter({
      ...config,
      collect() {
        for (const [key, by] of pending) if (by > 0) this.inc(labelsOf(names, key), by);
        pending.clear();
      },
    });
  }

  /** Adds `by` (≥ 0) to the series `key`. */
  inc(key: string, by = 1): void {
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + by);
  }
}

interface HistogramSeries {
  readonly labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** prom-client's JSON of one value (`get()`), which the primary merges and renders. */
interface ValueJson {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
  exemplar?: null;
}

/**
 * A histogram registered in a prom-client `Registry` as a metric of its own: it answers `get()` with
 * prom-client's Histogram JSON (cumulative `_bucket` series with `le` first, `+Inf`, `_sum`, `_count`).
 */
export class DeferredHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  #series: Map<string, HistogramSeries>;

  constructor(config: {
    name: string;
    help: string;
    labelNames?: readonly string[];
    buckets: readonly number[];
    registers: readonly Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames ?? [];
    this.#bounds = config.buckets;
    this.#series = new Map();
    // The registry reads `name` and calls `get()`; it has no type for metrics it did not make.
    for (const r of config.registers) r.registerMetric(this as never);
  }

  /** Counts `value` in the series `key`. */
  observe(key: string, value: number): void {
    let s = this.#series.get(key);
    if (s === undefined) {
      s = {
        labels: labelsOf(this.#labelNames, key),
        counts: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, s);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ValueJson[];
  }> {
    const values: ValueJson[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({
          labels: { le: this.#bounds[i]!, ...s.labels },
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      }
      values.push({
        labels: { le: "+Inf", ...s.labels },
        value: s.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series = new Map();
  }
}
