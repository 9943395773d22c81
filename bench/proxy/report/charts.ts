/**
 * The charts of RESULTS.md, from one results file each: osp against nginx per scenario, and req/s by
 * worker count for a scaling run.
 */
import type { SuiteResult } from "../results.js";
import { type Panel, renderPanels } from "./svg-chart.js";
import { commitOf, machineOf, num } from "./text-table.js";

const OSP_COLOR = "#1565c0";

/**
 * osp against nginx in each scenario: throughput and gateway CPU per request as ratios (dashed line = nginx),
 * the absolute figures in the labels. Ratios keep a 1 KiB GET and an 8 MiB GET readable on one scale.
 */
export function suiteChart(r: SuiteResult): string {
  const rows = r.scenarios.flatMap((s) => {
    const osp = s.targets.find((t) => t.target === "osp");
    const nginx = s.targets.find((t) => t.target === "nginx");
    return osp?.vsNginx === null || osp === undefined || nginx === undefined ? [] : [{ s, osp, nginx }];
  });
  const series = [{ name: "osp (nginx proxy_pass = 1)", color: OSP_COLOR }];
  const throughput: Panel = {
    title: "req/s against nginx proxy_pass",
    series,
    groups: rows.map(({ s, osp, nginx }) => ({
      label: s.scenario,
      values: [osp.vsNginx?.rps ?? null],
      labels: [`×${num(osp.vsNginx?.rps)} (${num(osp.rps)} vs ${num(nginx.rps)}/s)`],
    })),
    reference: 1,
    format: (v) => `×${num(v)}`,
  };
  const cpu: Panel = {
    title: "gateway CPU per request against nginx proxy_pass",
    series,
    groups: rows.map(({ s, osp, nginx }) => ({
      label: s.scenario,
      values: [osp.vsNginx?.cpuGateway ?? null],
      labels: [
        `×${num(osp.vsNginx?.cpuGateway)} (${num(osp.cpuUs.gateway)} vs ${num(nginx.cpuUs.gateway)} µs)`,
      ],
    })),
    reference: 1,
    format: (v) => `×${num(v)}`,
  };
  return renderPanels(
    [throughput, cpu],
    `${machineOf(r)} · node ${r.node} · commit ${commitOf(r)} · ${r.date}`,
  );
}

export function scalingChart(r: SuiteResult): string {
  const panel = (target: "nginx" | "osp"): Panel => ({
    title: `req/s by workers: ${target === "osp" ? "osp" : "nginx proxy_pass"}`,
    series: [...new Set(r.scenarios.map((s) => s.scenario))].map((name, i) => ({
      name,
      color: ["#1565c0", "#ef6c00", "#6a1b9a", "#2e7d32"][i % 4] ?? "#888",
    })),
    groups: [...new Set(r.scenarios.map((s) => s.workers))].map((w) => ({
      label: `${w} worker${w === 1 ? "" : "s"}`,
      values: [...new Set(r.scenarios.map((s) => s.scenario))].map(
        (name) =>
          r.scenarios
            .find((s) => s.workers === w && s.scenario === name)
            ?.targets.find((t) => t.target === target)?.rps ?? null,
      ),
    })),
    format: (v) => v.toFixed(0),
  });
  return renderPanels(
    [panel("nginx"), panel("osp")],
    `${machineOf(r)} · node ${r.node} · commit ${commitOf(r)} · ${r.date}`,
  );
}
