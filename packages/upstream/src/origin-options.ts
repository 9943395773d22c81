/**
 * Connection settings of one upstream origin, validated where they enter (the `UpstreamPools` constructor) so
 * a bad value fails at start-up with its key path, never on the first request.
 */

/** Settings of the connection pool of one origin. TLS verification is always on; there is no switch to turn it off. */
export interface OriginOptions {
  /** Most sockets to the origin. Fewer than the concurrent requests of a process costs 20–30 % throughput. */
  readonly connections: number;
  /** TCP + TLS handshake deadline. */
  readonly connectTimeoutMs: number;
  /** Deadline for the response headers, counted from the end of the request body. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two response body chunks (not counted while the caller has paused the response). */
  readonly bodyTimeoutMs: number;
  /** How long an idle socket stays open when the origin sends no `Keep-Alive: timeout=` hint. */
  readonly keepAliveTimeoutMs: number;
  /** Longest wait for a connection when all `connections` are busy; then ServiceUnavailable (503). */
  readonly queueTimeoutMs: number;
  /** Longest a caller may keep a response paused (its client stopped reading); then RequestTimeout. */
  readonly pausedTimeoutMs: number;
  /** PEM file of the CAs to trust for this origin instead of Node's bundled roots; `null` = Node's roots. */
  readonly caFile: string | null;
}

/**
 * The defaults of every upstream pool osp runs, and the one place their numbers are written: the config schema
 * takes each endpoint's `pool` defaults from here (packages/config/src/schema.ts), and origins that are no
 * endpoint (the authorization webhook, IBM IAM) get these as they are. deploy/config/osp.example.yaml shows
 * them to operators.
 *
 * 128 connections measured as fast as 32 and never slower (fewer connections than requests in flight lost
 * 20–30 % of throughput); a TCP + TLS handshake gets 5 s; a store gets 30 s to start its answer and 30 s of
 * silence within a body (raise `pool.headersTimeout` for stores whose CompleteMultipartUpload or CopyObject of
 * large objects thinks longer); keep-alive 4 s (undici's default too), below the idle timeout of common S3
 * front ends; a request waits at most 10 s for a connection (a queue without a bound would hold requests
 * forever), and a client that reads nothing for 2 minutes loses its response.
 */
export const DEFAULT_ORIGIN_OPTIONS: OriginOptions = Object.freeze({
  connections: 128,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 4_000,
  queueTimeoutMs: 10_000,
  pausedTimeoutMs: 120_000,
  caFile: null,
});

const POSITIVE_INTEGER_KEYS = [
  "connections",
  "connectTimeoutMs",
  "headersTimeoutMs",
  "bodyTimeoutMs",
  "keepAliveTimeoutMs",
  "queueTimeoutMs",
  "pausedTimeoutMs",
] as const;

/**
 * Merges `overrides` over `base` and checks every value; throws a `TypeError` naming `where` and the key.
 * Returns a frozen object.
 */
export function resolveOriginOptions(
  base: OriginOptions,
  overrides: Partial<OriginOptions> | undefined,
  where: string,
): OriginOptions {
  const merged: OriginOptions = { ...base, ...overrides };
  for (const key of POSITIVE_INTEGER_KEYS) {
    const value = merged[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`${where}.${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (merged.caFile !== null && (typeof merged.caFile !== "string" || merged.caFile.length === 0)) {
    throw new TypeError(`${where}.caFile must be a file path or null`);
  }
  return Object.freeze(merged);
}
