/**
 * The deployment kit's load-balancer examples, Prometheus config, alerts, Grafana dashboard and systemd unit,
 * checked by the tools that run them where they are installed (Debian packages haproxy, nginx-light,
 * prometheus for promtool, systemd), and by parsing: every metric and label the dashboard and alerts use must
 * be one osp documents. Containers and Kubernetes: deploy-manifests.test.ts.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compileConfig } from "@osp/config";
import {
  type ComposeFile,
  DEPLOY,
  findTool,
  labelsOf,
  METRICS,
  metricOf,
  metricUses,
  missing,
  parseYaml,
  readDeploy,
  runTool,
} from "./deploy-files.js";

const haproxy = findTool("haproxy");
const nginx = findTool("nginx");
const promtool = findTool("promtool");
const systemdAnalyze = findTool("systemd-analyze");

describe("load balancer examples", () => {
  test("the HAProxy example passes haproxy -c", { skip: haproxy ? false : missing("haproxy") }, () => {
    const r = runTool(haproxy!, ["-c", "-f", join(DEPLOY, "lb/haproxy.cfg")]);
    assert.equal(r.status, 0, r.output);
  });

  test("the HAProxy example checks /readyz on each instance's admin port and passes Host through", () => {
    const cfg = readDeploy("lb/haproxy.cfg");
    assert.match(cfg, /^\s*option httpchk GET \/readyz\s*$/m);
    assert.match(cfg, /^\s*default-server check port 9090\b/m);
    assert.match(cfg, /^\s*bind :6190\s*$/m);
    assert.match(cfg, /^\s*option forwardfor\b/m);
    // Buffering a whole request, or rewriting Host, would break large uploads and SigV4 signatures.
    const directives = cfg.replace(/#.*$/gm, "");
    assert.doesNotMatch(directives, /option http-buffer-request/);
    assert.doesNotMatch(directives, /set-header Host|replace-header Host/i);
    // Killing the sessions of a server marked down would fail the requests a draining instance still serves.
    assert.doesNotMatch(directives, /shutdown-sessions/);
  });

  test("the nginx example passes nginx -t in a scratch prefix", {
    skip: nginx ? false : missing("nginx"),
  }, () => {
    const prefix = mkdtempSync(join(tmpdir(), "osp-nginx-"));
    try {
      mkdirSync(join(prefix, "logs"));
      mkdirSync(join(prefix, "tmp"));
      const r = runTool(nginx!, [
        "-t",
        "-p",
        prefix,
        "-e",
        join(prefix, "logs/error.log"),
        "-c",
        join(DEPLOY, "lb/nginx.conf"),
      ]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /test is successful/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  test("the nginx example streams bodies both ways and sends the client's Host unchanged", () => {
    const conf = readDeploy("lb/nginx.conf");
    for (const directive of [
      /^\s*client_max_body_size 0;/m,
      /^\s*proxy_request_buffering off;/m,
      /^\s*proxy_buffering off;/m,
      /^\s*proxy_set_header Host \$http_host;/m,
      /^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/m,
      /^\s*underscores_in_headers on;/m,
      /^\s*listen 6190;/m,
    ])
      assert.match(conf, directive);
    // A URI after the upstream name makes nginx decode and normalise the path: signatures would not match.
    assert.match(conf, /^\s*proxy_pass http:\/\/osp;/m);
    assert.doesNotMatch(conf, /proxy_pass http:\/\/osp\//);
  });
});

describe("Prometheus and Grafana", () => {
  test("the scrape config and the alert rules pass promtool, and the alert unit tests pass", {
    skip: promtool ? false : missing("promtool (Debian package prometheus)"),
  }, () => {
    for (const args of [
      ["check", "config", "prometheus/prometheus.yml"],
      ["check", "rules", "prometheus/alerts.yml"],
      ["test", "rules", "prometheus/alerts.test.yml"],
    ]) {
      const r = runTool(promtool!, args, { cwd: DEPLOY });
      assert.equal(r.status, 0, `promtool ${args.join(" ")}\n${r.output}`);
    }
  });

  test("the alerts cover error ratio, p99 latency, IAM token failures, Redis down and worker restarts", () => {
    const rules = parseYaml("prometheus/alerts.yml") as {
      groups: Array<{ rules: Array<Record<string, string>> }>;
    };
    const exprOf = new Map(rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const)));
    const expectations: Array<[string, RegExp]> = [
      ["OspHighErrorRatio", /osp_requests_total\{status_class="5xx"\}/],
      ["OspHighP99Latency", /histogram_quantile\(0\.99,[\s\S]*osp_request_duration_seconds_bucket/],
      ["OspIamTokenFetchFailures", /osp_iam_token_fetches_total\{result="error"\}/],
      ["OspRedisDown", /osp_redis_up/],
      ["OspWorkerRestarts", /osp_worker_restarts_total/],
    ];
    for (const [alert, expr] of expectations) assert.match(exprOf.get(alert) ?? "", expr, alert);
  });

  test("every metric the dashboard and the alerts use is a documented osp metric, with its labels", () => {
    const files = ["grafana/osp-dashboard.json", "prometheus/alerts.yml", "prometheus/alerts.test.yml"];
    const used = new Set<string>();
    for (const file of files) {
      for (const use of metricUses(readDeploy(file))) {
        const metric = metricOf(use.series);
        assert.notEqual(metric, null, `${file}: ${use.series} is not one of osp's metrics`);
        used.add(metric!);
        for (const label of use.matchers)
          assert.ok(labelsOf(use.series).includes(label), `${file}: ${use.series} has no label "${label}"`);
      }
    }
    // The dashboard shows every metric osp exports: a new metric without a panel shows up here.
    const inDashboard = new Set(
      metricUses(readDeploy("grafana/osp-dashboard.json")).map((u) => metricOf(u.series)),
    );
    assert.deepEqual(
      Object.keys(METRICS).filter((m) => !inDashboard.has(m)),
      [],
      "metrics without a dashboard panel",
    );
    assert.ok(used.size >= Object.keys(METRICS).length);
  });

  test("the dashboard is Grafana JSON whose panels query Prometheus through the datasource variable", () => {
    const dashboard = JSON.parse(readDeploy("grafana/osp-dashboard.json")) as {
      uid: string;
      templating: { list: Array<{ name: string; type: string }> };
      panels: Array<{
        id: number;
        type: string;
        title: string;
        gridPos: { x: number; y: number; w: number; h: number };
        datasource?: { uid: string };
        targets?: Array<{ expr: string; refId: string }>;
      }>;
    };
    assert.equal(dashboard.uid, "osp-gateway");
    assert.ok(dashboard.templating.list.some((v) => v.name === "datasource" && v.type === "datasource"));
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title}: fits the 24-column grid`);
      for (let cx = x; cx < x + w; cx++)
        for (let cy = y; cy < y + h; cy++) {
          assert.ok(!cells.has(`${cx},${cy}`), `${panel.title} overlaps another panel`);
          cells.add(`${cx},${cy}`);
        }
      if (panel.type === "row") continue;
      // Grafana's variable syntax, not a template literal.
      assert.equal(panel.datasource?.uid, "$" + "{datasource}", panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
      for (const t of panel.targets ?? []) assert.match(t.expr, /osp_/, panel.title);
    }
  });

  test("the Grafana provisioning points at the compose Prometheus and the dashboard's folder", () => {
    const ds = parseYaml("grafana/provisioning/datasources/prometheus.yaml") as {
      datasources: Array<{ type: string; url: string }>;
    };
    assert.equal(ds.datasources[0]?.type, "prometheus");
    assert.equal(ds.datasources[0]?.url, "http://prometheus:9090");
    const boards = parseYaml("grafana/provisioning/dashboards/osp.yaml") as {
      providers: Array<{ options: { path: string } }>;
    };
    const compose = parseYaml("compose/compose.yaml") as ComposeFile;
    const mounts = compose.services.grafana?.volumes ?? [];
    assert.ok(
      mounts.some(
        (m) =>
          m.startsWith("../grafana/osp-dashboard.json:") && m.includes(boards.providers[0]!.options.path),
      ),
      "compose mounts the dashboard where the provider looks",
    );
  });
});

describe("systemd", () => {
  test("the unit passes systemd-analyze verify without a warning", {
    skip: systemdAnalyze ? false : missing("systemd-analyze"),
  }, () => {
    // verify checks that ExecStart's binary exists: point it at this node.
    const dir = mkdtempSync(join(tmpdir(), "osp-unit-"));
    try {
      const unit = readDeploy("systemd/osp.service").replaceAll("/usr/bin/node ", `${process.execPath} `);
      writeFileSync(join(dir, "osp.service"), unit);
      const r = runTool(systemdAnalyze!, ["verify", join(dir, "osp.service")]);
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output.trim(), "", "no warnings");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the unit stops with SIGTERM to the primary and waits longer than the drain", () => {
    const unit = readDeploy("systemd/osp.service");
    const drainMs = compileConfig("endpoints: {}\nbuckets: {}\n", "defaults", {}).shutdown.drainTimeout;
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^KillMode=mixed$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const stopSeconds = Number.parseInt(/^TimeoutStopSec=(\d+)s?$/m.exec(unit)?.[1] ?? "0", 10);
    assert.ok(stopSeconds * 1000 > drainMs, `TimeoutStopSec ${stopSeconds}s > drainTimeout ${drainMs}ms`);
    for (const hardening of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "DynamicUser=yes",
      "Restart=on-failure",
    ])
      assert.match(unit, new RegExp(`^${hardening}$`, "m"));
    assert.match(unit, /^LimitNOFILE=\d+$/m);
    assert.match(unit, /^ReadOnlyPaths=/m);
  });
});
