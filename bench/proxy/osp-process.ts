/**
 * The gateway under test: the real CLI (`osp serve --config FILE`) in its own process group, so that its
 * primary and its cluster workers form one tree for the CPU and RSS figures.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Child, HOST, repoRoot, startChild } from "./children.js";
import { COLD_GROUP, coldKey, coldPrincipal } from "./cold-identity.js";
import { LEDGER_NODE_ARGS } from "./ledger.js";

/** The client every scenario but the cold path signs with (principal `bench`, every action). */
export const CLIENT = { accessKeyId: "BENCHACCESSKEY01", secretAccessKey: "bench-secret-key-0123456789" };

/** The API key the fake IAM server of testkit accepts by default. */
export const IAM_API_KEY = "osp-test-api-key";

export interface OspOptions {
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
  readonly workers: number;
  readonly originPort: number;
  /** The in-process upstream of the memory scenario. */
  readonly memPort: number;
  /** The bearer upstream and its IAM token URL, for bucket `ibm`; null without the IAM scenario. */
  readonly bearer: { readonly port: number; readonly iamUrl: string } | null;
  /**
   * Where the cold-path principals come from: the identity hook (cold-identity.ts), the config's
   * `credentials` (this many keys), or nowhere (no cold scenario).
   */
  readonly cold: { readonly source: "hook" } | { readonly source: "config"; readonly keys: number } | null;
  /** Upstream connections per worker: at least the client connections (fewer lost 20–30 % of throughput). */
  readonly poolConnections: number;
  readonly verifyMode: "inline" | "pool" | "auto";
  /** `limits.spoolTotalBytes` in MiB; null: osp's default. */
  readonly spoolMiB: number | null;
  /**
   * `default`: osp's logging defaults, what users run (level info, one access line per request, written to
   * a file in `dir`); `quiet`: level warn and no access log, as nginx runs here (`access_log off`).
   */
  readonly logging: "default" | "quiet";
  /** Run with the Node flags the cost ledger needs (ledger.ts): perf then names JavaScript frames. */
  readonly profiled: boolean;
}

/**
 * The config, written as JSON (YAML is a superset of it, and JSON is what a generator of thousands of
 * credentials writes quickly). Logging as `o.logging` says: osp's defaults, or quiet (the `-nolog` rows).
 */
export function ospConfig(o: OspOptions): string {
  const hmac = { type: "hmac", accessKeyId: "bench-upstream", secretAccessKey: "bench-upstream-secret" };
  const pool = { connections: o.poolConnections };
  const endpoints: Record<string, unknown> = {
    origin: { url: `http://${HOST}:${o.originPort}`, addressing: "path", auth: hmac, pool },
    mem: { url: `http://${HOST}:${o.memPort}`, addressing: "path", auth: hmac, pool },
  };
  const buckets: Record<string, unknown> = { bench: { endpoint: "origin" }, mem: { endpoint: "mem" } };
  if (o.bearer !== null) {
    endpoints.ibm = {
      url: `http://${HOST}:${o.bearer.port}`,
      addressing: "path",
      auth: { type: "iam", apiKey: IAM_API_KEY, iamUrl: o.bearer.iamUrl },
      pool,
    };
    buckets.ibm = { endpoint: "ibm" };
  }
  const credentials: unknown[] = [{ ...CLIENT, principal: "bench" }];
  if (o.cold?.source === "config")
    for (let i = 0; i < o.cold.keys; i++)
      credentials.push({ ...coldKey(i), principal: coldPrincipal(i), groups: [COLD_GROUP] });
  const hook = join(import.meta.dirname, "cold-identity.js");
  const config = {
    listen: { host: HOST, port: o.port },
    workers: o.workers,
    admin: { host: HOST, port: o.adminPort },
    ...(o.logging === "quiet" ? { logging: { level: "warn", accessLog: false } } : {}),
    verify: { mode: o.verifyMode },
    ...(o.spoolMiB === null ? {} : { limits: { spoolTotalBytes: o.spoolMiB * 2 ** 20 } }),
    ...(o.cold?.source === "hook" ? { identity: { hook } } : {}),
    endpoints,
    buckets,
    credentials,
    authorization: {
      rules: [
        { principal: "bench", buckets: Object.keys(buckets), actions: ["*"] },
        { groups: [COLD_GROUP], buckets: ["bench"], actions: ["read"] },
      ],
    },
  };
  return JSON.stringify(config);
}

/** Extra Node flags for the osp process, e.g. `OSP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"`. */
function nodeArgs(): string[] {
  return (process.env.OSP_BENCH_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
}

/** osp's stdout (its JSON log lines) goes to `osp-<workers>[-quiet].log` in `o.dir`. */
export function startOsp(o: OspOptions, onEarlyExit: (message: string) => void): Child {
  const name = `osp-${o.workers}${o.logging === "quiet" ? "-quiet" : ""}`;
  const file = join(o.dir, `${name}.yaml`);
  writeFileSync(file, ospConfig(o));
  return startChild(
    o.logging === "quiet" ? "osp (quiet)" : "osp",
    process.execPath,
    [
      ...(o.profiled ? LEDGER_NODE_ARGS : []),
      ...nodeArgs(),
      join(repoRoot, "packages/cli/bin/osp.js"),
      "serve",
      "--config",
      file,
    ],
    onEarlyExit,
    join(o.dir, `${name}.log`),
  );
}
