/**
 * What /readyz answers: 200 only while every expected worker listens, the config is loaded and the cluster
 * is not draining; 503 while starting, draining, or with a worker given up after a crash loop. The body says
 * which, and each worker's Redis state (Redis down does not make the cluster unready: workers keep serving
 * from their L1 caches and their own sources).
 */
import type { PoolStatus } from "./worker-status.js";

export interface Readiness {
  readonly ready: boolean;
  readonly body: {
    readonly status: "ready" | "starting" | "draining" | "degraded";
    readonly draining: boolean;
    readonly port: number | null;
    readonly workers: {
      readonly expected: number;
      readonly listening: number;
      readonly failed: number;
      readonly processes: PoolStatus["workers"];
    };
    readonly config: { readonly source: string; readonly generation: number; readonly loadedAt: string };
    readonly redis: ReadonlyArray<{ slot: number; pid: number; state: string; lastError: string | null }>;
  };
}

export function describeReadiness(
  pool: PoolStatus,
  draining: boolean,
  config: Readiness["body"]["config"],
): Readiness {
  const ready = !draining && pool.failed === 0 && pool.expected > 0 && pool.listening === pool.expected;
  const status = draining ? "draining" : pool.failed > 0 ? "degraded" : ready ? "ready" : "starting";
  return {
    ready,
    body: {
      status,
      draining,
      port: pool.port,
      workers: {
        expected: pool.expected,
        listening: pool.listening,
        failed: pool.failed,
        processes: pool.workers,
      },
      config,
      redis: pool.workers.map((w) => ({
        slot: w.slot,
        pid: w.pid,
        state: w.redis?.state ?? "unknown",
        lastError: w.redis?.lastError ?? null,
      })),
    },
  };
}
