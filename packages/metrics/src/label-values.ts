/**
 * Label values derived from request facts. Every label osp exports has a bounded set of values: a client
 * can send any method or bucket name, and each new value would be a new time series in Prometheus.
 */

const STATUS_CLASSES = ["", "1xx", "2xx", "3xx", "4xx", "5xx"];

/** `2xx`, `4xx`…; `aborted` when no status was sent (status 0: the client or the upstream went away first). */
export function statusClass(status: number): string {
  if (status >= 100 && status < 600) return STATUS_CLASSES[Math.floor(status / 100)]!;
  return "aborted";
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]);

/** The request method, or `other` for anything S3 does not use (a client chooses this string freely). */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "other";
}

/**
 * Maps a client's bucket name to its label: the name itself for buckets in `metrics.bucketLabels`, `other`
 * for any other bucket, `""` for service-level requests (no bucket).
 */
export function createBucketLabeler(allowed: readonly string[]): (bucket: string | null) => string {
  const names = new Set(allowed);
  return (bucket) => {
    if (bucket === null) return "";
    return names.has(bucket) ? bucket : "other";
  };
}
