/**
 * The metrics of one worker process: a private prom-client registry fed by the `diagnostics_channel` events
 * the other packages publish (subscribed by channel name: this package imports none of them). The primary
 * collects `snapshot()` from every worker and merges them (aggregate-metrics.ts). What every request
 * updates is counted in plain numbers and handed to prom-client when the registry is read
 * (deferred-metrics.ts): under a µs a request where prom-client's labelled updates cost several.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Registry } from "prom-client";
import { DeferredCounter, DeferredHistogram, SEPARATOR } from "./deferred-metrics.js";
import { createBucketLabeler, methodLabel, statusClass } from "./label-values.js";
import type { MetricsSnapshot } from "./metrics-snapshot.js";

/** Seconds, from a cached GET (~1 ms) to a multi-GiB transfer (minutes). */
const REQUEST_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
/** Seconds to the upstream's response headers: no body transfer in it, so it tops out at its timeout. */
const UPSTREAM_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
/** Seconds a task waits for a pool thread: microseconds when idle, anything past 1 s is an overload. */
const POOL_WAIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The channel names the publishing packages define (a contract by name); they own the event shapes. */
export const CHANNELS = {
  gatewayRequest: "osp:gateway:request",
  upstreamRequest: "osp:upstream:request",
  iamToken: "osp:upstream:iam-token",
  httpRejected: "osp:http:rejected",
  cacheLookup: "osp:cache:lookup",
  cacheRedis: "osp:cache:redis",
  verifyPool: "osp:verify:pool",
  listBucketsFailure: "osp:gateway:list-buckets-failure",
} as const;

interface GatewayRequest {
  operation: string;
  method: string;
  status: number;
  bucket: string | null;
  errorCode: string | null;
  refusedBy: "authenticate" | "authorize" | null;
  bytesIn: number;
  bytesOut: number;
  durationSeconds: number;
}
interface UpstreamRequest {
  origin: string;
  status: number;
  headersMs: number;
  outcome: string;
  /** Which deadline ended the request (`queue`, `paused`, …), null if none; absent from older publishers. */
  timeout?: string | null;
}

export interface WorkerMetricsOptions {
  /** `metrics.bucketLabels`: buckets with a label of their own; the rest are `other`. */
  readonly bucketLabels: readonly string[];
  /** True when a Redis is configured: exports `osp_redis_up` (0 until the cache reports it up). */
  readonly redis: boolean;
  /** Requests in flight now, read at each collection. */
  readonly inFlight: () => number;
}

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Applies a reloaded `metrics.bucketLabels` to the requests counted from now on. */
  setBucketLabels(names: readonly string[]): void;
  /** This worker's metrics as plain data (JSON-safe), for the primary to merge. */
  snapshot(): Promise<MetricsSnapshot>;
  /** Requests counted so far (the sum of `osp_requests_total`). */
  requestCount(): number;
  /** Unsubscribes from every channel and stops the event-loop monitor. */
  close(): void;
}

export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  let bucketLabel = createBucketLabeler(options.bucketLabels);
  let requestCount = 0;

  const requests = new DeferredCounter({
    name: "osp_requests_total",
    help: "Requests answered (or aborted), by S3 operation, method, status class and bucket.",
    labelNames: ["operation", "method", "status_class", "bucket"],
    registers,
  });
  const requestSeconds = new DeferredHistogram({
    name: "osp_request_duration_seconds",
    help: "Whole request duration, body transfer included, in seconds.",
    labelNames: ["operation"],
    buckets: REQUEST_DURATION_BUCKETS,
    registers,
  });
  const receivedBytes = new DeferredCounter({
    name: "osp_received_bytes_total",
    help: "Request body bytes received from clients.",
    registers,
  });
  const sentBytes = new DeferredCounter({
    name: "osp_sent_bytes_total",
    help: "Response bytes sent to clients.",
    registers,
  });
  const authFailures = new Counter({
    name: "osp_auth_failures_total",
    help: "Requests refused by authentication or authorization, by phase and S3 error code.",
    labelNames: ["phase", "reason"],
    registers,
  });
  const upstreamRequests = new DeferredCounter({
    name: "osp_upstream_requests_total",
    help: "Requests sent to upstream endpoints, by configured origin, outcome and status class.",
    labelNames: ["origin", "outcome", "status_class"],
    registers,
  });
  const upstreamSeconds = new DeferredHistogram({
    name: "osp_upstream_duration_seconds",
    help: "Time from sending an upstream request to its response headers, in seconds.",
    labelNames: ["origin"],
    buckets: UPSTREAM_DURATION_BUCKETS,
    registers,
  });
  const upstreamQueueTimeouts = new Counter({
    name: "osp_upstream_queue_timeouts_total",
    help: "Upstream requests that waited for a free connection longer than the pool's queueTimeout (answered 503).",
    labelNames: ["origin"],
    registers,
  });
  const upstreamPausedTimeouts = new Counter({
    name: "osp_upstream_paused_timeouts_total",
    help: "Upstream responses dropped because the client read nothing for the pool's pausedTimeout.",
    labelNames: ["origin"],
    registers,
  });
  const httpRejected = new Counter({
    name: "osp_http_rejected_total",
    help: "Requests the HTTP layer refused before the gateway saw them, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const cacheRequests = new Counter({
    name: "osp_cache_requests_total",
    help: "Cache lookups by cache, tier and result.",
    labelNames: ["cache", "tier", "result"],
    registers,
  });
  const iamFetches = new Counter({
    name: "osp_iam_token_fetches_total",
    help: "IBM IAM token fetches by result, foreground or background refresh.",
    labelNames: ["result", "background"],
    registers,
  });
  const listBucketsFailures = new Counter({
    name: "osp_list_buckets_failures_total",
    help: "Endpoint bucket listings (for ListBuckets) that failed and were left out, by configured endpoint.",
    labelNames: ["endpoint"],
    registers,
  });
  const inFlight = options.inFlight;
  new Gauge({
    name: "osp_in_flight_requests",
    help: "Requests in flight (summed across workers).",
    aggregator: "sum",
    registers,
    collect() {
      this.set(inFlight());
    },
  });
  const poolQueue = new Gauge({
    name: "osp_verify_pool_queue_length",
    help: "Tasks waiting for a verification thread, as of the last pooled task (summed across workers).",
    aggregator: "sum",
    registers,
  });
  const poolWait = new DeferredHistogram({
    name: "osp_verify_pool_wait_seconds",
    help: "Time a verification task waited for a pool thread, in seconds.",
    buckets: POOL_WAIT_BUCKETS,
    registers,
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: "osp_event_loop_lag_seconds",
    help: "p99 event-loop delay since the previous collection, in seconds (the worst worker).",
    aggregator: "max",
    registers,
    collect() {
      // The histogram is in nanoseconds; reset so each scrape sees only its own interval.
      this.set(loopDelay.count > 0 ? loopDelay.percentile(99) / 1e9 : 0);
      loopDelay.reset();
    },
  });
  const redisUp = options.redis
    ? new Gauge({
        name: "osp_redis_up",
        help: "1 while this worker's Redis connection is up (the minimum across workers); absent without Redis.",
        aggregator: "min",
        registers,
      })
    : null;
  redisUp?.set(0);

  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [
      CHANNELS.gatewayRequest,
      (message) => {
        const e = message as GatewayRequest;
        requestCount++;
        requests.inc(
          e.operation +
            SEPARATOR +
            methodLabel(e.method) +
            SEPARATOR +
            statusClass(e.status) +
            SEPARATOR +
            bucketLabel(e.bucket),
        );
        requestSeconds.observe(e.operation, e.durationSeconds);
        if (e.bytesIn > 0) receivedBytes.inc("", e.bytesIn);
        if (e.bytesOut > 0) sentBytes.inc("", e.bytesOut);
        if (e.refusedBy !== null) authFailures.inc({ phase: e.refusedBy, reason: e.errorCode ?? "unknown" });
      },
    ],
    [
      CHANNELS.upstreamRequest,
      (message) => {
        const e = message as UpstreamRequest;
        upstreamRequests.inc(e.origin + SEPARATOR + e.outcome + SEPARATOR + statusClass(e.status));
        if (e.headersMs >= 0) upstreamSeconds.observe(e.origin, e.headersMs / 1000);
        if (e.timeout === "queue") upstreamQueueTimeouts.inc({ origin: e.origin });
        else if (e.timeout === "paused") upstreamPausedTimeouts.inc({ origin: e.origin });
      },
    ],
    [
      CHANNELS.iamToken,
      (message) => {
        const e = message as { outcome: string; background: boolean };
        iamFetches.inc({ result: e.outcome, background: String(e.background) });
      },
    ],
    [
      CHANNELS.httpRejected,
      (message) => httpRejected.inc({ reason: (message as { reason: string }).reason }),
    ],
    [
      CHANNELS.cacheLookup,
      (message) => {
        const e = message as { cache: string; tier: string; hit: boolean };
        cacheRequests.inc({ cache: e.cache, tier: e.tier, result: e.hit ? "hit" : "miss" });
      },
    ],
    [
      CHANNELS.listBucketsFailure,
      (message) => listBucketsFailures.inc({ endpoint: (message as { endpoint: string }).endpoint }),
    ],
    [CHANNELS.cacheRedis, (message) => redisUp?.set((message as { state: string }).state === "up" ? 1 : 0)],
    [
      CHANNELS.verifyPool,
      (message) => {
        const e = message as { queueLength: number; waitSeconds: number };
        poolQueue.set(e.queueLength);
        poolWait.observe("", e.waitSeconds);
      },
    ],
  ];
  for (const [name, listener] of subscriptions) diagnosticsChannel.subscribe(name, listener);

  return {
    registry,
    setBucketLabels(names) {
      bucketLabel = createBucketLabeler(names);
    },
    async snapshot() {
      return (await registry.getMetricsAsJSON()) as unknown as MetricsSnapshot;
    },
    requestCount: () => requestCount,
    close() {
      for (const [name, listener] of subscriptions) diagnosticsChannel.unsubscribe(name, listener);
      loopDelay.disable();
    },
  };
}
