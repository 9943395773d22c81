/**
 * Shared by the deployment-kit tests: where deploy/ is, YAML parsing, the metric contract (docs/operations.md
 * "Metrics"), and finding the Debian tools (haproxy, nginx, promtool…) that validate the examples.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join, resolve } from "node:path";

/** The repository root (this file runs from test/dist/deploy/). */
export const ROOT = resolve(import.meta.dirname, "..", "..", "..");
export const DEPLOY = join(ROOT, "deploy");

export function readDeploy(relative: string): string {
  return readFileSync(join(DEPLOY, relative), "utf8");
}

interface YamlDocument {
  readonly errors: ReadonlyArray<{ readonly message: string }>;
  toJS(): unknown;
}
interface YamlModule {
  parseAllDocuments(text: string, options?: { uniqueKeys?: boolean }): Iterable<YamlDocument>;
}

let yamlModule: YamlModule | null = null;

/**
 * The `yaml` package, as @osp/config resolves it: test/ has no YAML dependency of its own (yet), and the
 * config loader's parser is the one whose reading of these files matters.
 */
function yaml(): YamlModule {
  if (yamlModule === null) {
    const require = createRequire(import.meta.resolve("@osp/config"));
    yamlModule = require("yaml") as YamlModule;
  }
  return yamlModule;
}

/** Every document of a YAML file under deploy/, as plain data; throws on any syntax error or duplicate key. */
export function parseYamlDocuments(relative: string): unknown[] {
  const docs: unknown[] = [];
  for (const doc of yaml().parseAllDocuments(readDeploy(relative), { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw new Error(`${relative}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

export function parseYaml(relative: string): unknown {
  const docs = parseYamlDocuments(relative);
  if (docs.length !== 1) throw new Error(`${relative}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}

/**
 * osp's metrics and their labels (docs/operations.md "Metrics"; the contract the dashboard and alerts are
 * written against). Histograms also expose `_bucket` (with `le`), `_sum` and `_count`.
 */
export const METRICS: Readonly<
  Record<string, { readonly labels: readonly string[]; readonly histogram?: true }>
> = {
  osp_requests_total: { labels: ["operation", "method", "status_class", "bucket"] },
  osp_request_duration_seconds: { labels: ["operation"], histogram: true },
  osp_upstream_requests_total: { labels: ["origin", "outcome", "status_class"] },
  osp_upstream_duration_seconds: { labels: ["origin"], histogram: true },
  osp_received_bytes_total: { labels: [] },
  osp_sent_bytes_total: { labels: [] },
  osp_auth_failures_total: { labels: ["phase", "reason"] },
  osp_http_rejected_total: { labels: ["reason"] },
  osp_cache_requests_total: { labels: ["cache", "tier", "result"] },
  osp_iam_token_fetches_total: { labels: ["result", "background"] },
  osp_in_flight_requests: { labels: [] },
  osp_verify_pool_queue_length: { labels: [] },
  osp_verify_pool_wait_seconds: { labels: [], histogram: true },
  osp_event_loop_lag_seconds: { labels: [] },
  osp_redis_up: { labels: [] },
  osp_workers: { labels: ["state"] },
  osp_worker_restarts_total: { labels: [] },
  osp_config_reloads_total: { labels: ["result"] },
  osp_build_info: { labels: ["version", "node"] },
};

/** Labels every scraped series carries besides its own: added by Prometheus (job, instance). */
const TARGET_LABELS = ["job", "instance"];

/** A series name as written in a query (`osp_x_bucket`) → the metric it belongs to, or null if unknown. */
export function metricOf(series: string): string | null {
  if (series in METRICS) return series;
  const base = series.replace(/_(bucket|sum|count)$/, "");
  return base !== series && METRICS[base]?.histogram === true ? base : null;
}

/** Labels a query may match on for a series name (the metric's own, `le` on buckets, target labels). */
export function labelsOf(series: string): readonly string[] {
  const metric = metricOf(series);
  if (metric === null) return [];
  const own = METRICS[metric]?.labels ?? [];
  return [...own, ...TARGET_LABELS, ...(series.endsWith("_bucket") ? ["le"] : [])];
}

export interface MetricUse {
  readonly series: string;
  /** Label names matched in the selector right after the name (`{status_class="5xx"}`). */
  readonly matchers: readonly string[];
}

/** Every `osp_…` series a text uses, with the label names of the selector that follows it, if any. */
export function metricUses(text: string): MetricUse[] {
  const uses: MetricUse[] = [];
  for (const m of text.matchAll(/\b(osp_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const selector = m[3] ?? "";
    const matchers = [...selector.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!);
    uses.push({ series: m[1]!, matchers });
  }
  return uses;
}

/** The parts of a compose file the tests read. */
export interface ComposeFile {
  services: Record<
    string,
    { environment?: Record<string, string>; volumes?: string[]; stop_grace_period?: string; image?: string }
  >;
}

/** The skip reason of a check whose tool is absent. */
export const missing = (tool: string): string => `${tool} is not installed`;

/** The absolute path of an executable found on PATH or in the sbin directories, or null. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** Runs a tool to completion; returns its exit status and both outputs. */
export function runTool(
  bin: string,
  args: readonly string[],
  options: { cwd?: string } = {},
): { status: number | null; output: string } {
  const r = spawnSync(bin, args, { cwd: options.cwd ?? ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}
