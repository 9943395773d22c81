/**
 * The primary's own metrics: its workers, their restarts, config reloads and the build. The workers'
 * metrics are merged in at each scrape (aggregate-metrics.ts).
 */
import { Counter, Gauge, Registry } from "prom-client";

export type WorkerState = "starting" | "listening" | "draining" | "failed";
const WORKER_STATES: readonly WorkerState[] = ["starting", "listening", "draining", "failed"];

export interface PrimaryMetrics {
  readonly registry: Registry;
  /** Worker processes by state now (`failed`: slots given up after a crash loop). */
  setWorkers(counts: Readonly<Record<WorkerState, number>>): void;
  workerRestarted(): void;
  configReloaded(result: "ok" | "error"): void;
}

export function createPrimaryMetrics(build: { version: string; node: string }): PrimaryMetrics {
  const registry = new Registry();
  const registers = [registry];
  const workers = new Gauge({
    name: "osp_workers",
    help: "Worker processes by state.",
    labelNames: ["state"],
    registers,
  });
  for (const state of WORKER_STATES) workers.set({ state }, 0);
  const restarts = new Counter({
    name: "osp_worker_restarts_total",
    help: "Workers forked again after one exited unexpectedly.",
    registers,
  });
  const reloads = new Counter({
    name: "osp_config_reloads_total",
    help: "Config reloads (SIGHUP) by result: ok, or error when the new config was rejected.",
    labelNames: ["result"],
    registers,
  });
  reloads.inc({ result: "ok" }, 0);
  reloads.inc({ result: "error" }, 0);
  new Gauge({
    name: "osp_build_info",
    help: "Always 1; the labels say which osp and Node.js run.",
    labelNames: ["version", "node"],
    registers,
  }).set({ version: build.version, node: build.node }, 1);
  return {
    registry,
    setWorkers(counts) {
      for (const state of WORKER_STATES) workers.set({ state }, counts[state]);
    },
    workerRestarted: () => restarts.inc(),
    configReloaded: (result) => reloads.inc({ result }),
  };
}
