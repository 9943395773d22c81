/**
 * The deployment kit's container image, compose stack and Kubernetes manifests: YAML parse, the configs they
 * carry compile with osp's own loader and the environment they are given, the Kubernetes objects fit together
 * (ports, probes, selectors, drain timing), and `docker-compose config` / `kubectl kustomize` accept them
 * where those tools are installed.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compileConfig } from "@osp/config";
import {
  type ComposeFile,
  DEPLOY,
  findTool,
  missing,
  parseYaml,
  parseYamlDocuments,
  readDeploy,
  runTool,
} from "./deploy-files.js";

const dockerCompose = findTool("docker-compose");
const kubectl = findTool("kubectl");

/** `${NAME:-default}` as docker compose resolves it with NAME unset. */
const composeDefaults = (value: string) => value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, "$1");

describe("containers", () => {
  test("the compose file's osp config compiles with the environment compose gives it", () => {
    const compose = parseYaml("compose/compose.yaml") as ComposeFile;
    for (const name of ["osp", "redis", "s3", "prometheus", "grafana"])
      assert.ok(compose.services[name], `service ${name}`);
    const osp = compose.services.osp!;
    const env = Object.fromEntries(
      Object.entries(osp.environment ?? {}).map(([k, v]) => [k, composeDefaults(v)]),
    );
    const mount = (osp.volumes ?? []).find((v) => v.endsWith(":/etc/osp/osp.yaml:ro"));
    assert.equal(mount, "../docker/osp.yaml:/etc/osp/osp.yaml:ro");
    const config = compileConfig(readDeploy("docker/osp.yaml"), "deploy/docker/osp.yaml", env);
    // Reachable from the other containers, on osp's default ports (docs/operations.md "Ports"), through
    // services that exist.
    assert.equal(config.listen.port, 6190);
    assert.equal(config.admin.port, 9090);
    assert.equal(config.admin.host, "0.0.0.0");
    assert.ok(compose.services[new URL(config.redis!.url).hostname], "Redis URL names a compose service");
    assert.ok(compose.services[new URL(config.endpoints.local!.url).hostname], "upstream names a service");
    // docker stop's grace must outlast the drain, or a draining gateway is killed.
    assert.ok(Number.parseInt(osp.stop_grace_period ?? "10", 10) * 1000 > config.shutdown.drainTimeout);
    const prometheus = parseYaml("prometheus/prometheus.yml") as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    assert.deepEqual(prometheus.scrape_configs[0]?.static_configs[0]?.targets, ["osp:9090"]);
  });

  test("docker-compose accepts the compose file", {
    skip: dockerCompose ? false : missing("docker-compose"),
  }, () => {
    const r = runTool(dockerCompose!, ["-f", "compose.yaml", "config", "-q"], {
      cwd: join(DEPLOY, "compose"),
    });
    assert.equal(r.status, 0, r.output);
  });

  test("the Dockerfile builds on Node 20 bookworm, runs as a non-root user and checks /healthz", () => {
    const file = readDeploy("docker/Dockerfile");
    assert.match(file, /^ARG NODE_BUILD_IMAGE=node:20-bookworm$/m);
    assert.match(file, /^ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim$/m);
    assert.match(file, /npx --yes pnpm@9\.15\.9/);
    assert.match(file, /install --frozen-lockfile/);
    const user = /^USER (\S+)$/m.exec(file)?.[1] ?? "root";
    assert.match(user, /^[1-9][0-9]*:[1-9][0-9]*$/, "a numeric non-root uid:gid");
    assert.match(file, /^EXPOSE 6190 9090$/m);
    assert.match(file, /^ENV OSP_HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:9090\/healthz$/m);
    assert.match(file, /^HEALTHCHECK .*\n\s+CMD \["node", "-e", /m);
    assert.match(
      file,
      /^CMD \["node", "packages\/cli\/bin\/osp\.js", "serve", "--config", "\/etc\/osp\/osp\.yaml"\]$/m,
    );
    assert.match(readDeploy("docker/Dockerfile.dockerignore"), /^\*\*\/node_modules$/m);
  });
});

type Labels = Record<string, string>;
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Labels };
}
interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  envFrom: unknown;
  livenessProbe: { httpGet: unknown };
  readinessProbe: { httpGet: unknown };
  lifecycle: { preStop: { exec: { command: string[] } } };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot?: boolean };
        containers: Container[];
        volumes: Array<{ name: string; configMap?: { name: string } }>;
      };
    };
  };
}
interface Service extends Manifest {
  spec: { selector: Labels; ports: Array<{ name: string; targetPort: string }> };
}

describe("Kubernetes manifests", () => {
  /** Every object of the files kustomization.yaml lists; `one` finds exactly one of a kind (and name). */
  const load = () => {
    const kustomization = parseYaml("k8s/kustomization.yaml") as { resources: string[] };
    const files = readdirSync(join(DEPLOY, "k8s")).filter(
      (f) => f.endsWith(".yaml") && f !== "kustomization.yaml",
    );
    assert.deepEqual([...kustomization.resources].sort(), files.sort(), "kustomization lists every manifest");
    const objects = kustomization.resources.flatMap(
      (file) => parseYamlDocuments(`k8s/${file}`) as Manifest[],
    );
    return <T extends Manifest>(kind: string, name?: string): T => {
      const found = objects.filter(
        (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
      );
      assert.equal(found.length, 1, `one ${kind} ${name ?? ""}`);
      return found[0] as T;
    };
  };

  test("the manifests parse and fit together: ports, probes, selectors, drain timing, secrets", () => {
    const one = load();
    const deployment = one<Deployment>("Deployment", "osp");
    const pod = deployment.spec.template.spec;
    const podLabels = deployment.spec.template.metadata.labels;
    const matches = (selector: Labels) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    assert.ok(matches(deployment.spec.selector.matchLabels));
    const container = pod.containers[0]!;
    const ports = new Map(container.ports.map((p) => [p.name, p.containerPort]));
    assert.equal(ports.get("s3"), 6190);
    assert.equal(ports.get("admin"), 9090);
    assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "admin" });
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "admin" });
    assert.equal(pod.securityContext.runAsNonRoot, true);

    // The config compiles with the Secret's keys as its environment, and listens where the pod says.
    const secret = one<Manifest & { stringData: Labels }>("Secret", "osp-secrets");
    assert.deepEqual(container.envFrom, [{ secretRef: { name: "osp-secrets" } }]);
    const volume = pod.volumes.find((v) => v.configMap !== undefined)!;
    const configMap = one<Manifest & { data: Labels }>("ConfigMap", volume.configMap!.name);
    assert.equal(container.volumeMounts.find((m) => m.name === volume.name)?.mountPath, "/etc/osp");
    assert.ok(container.args.includes("/etc/osp/osp.yaml"));
    const config = compileConfig(configMap.data["osp.yaml"] ?? "", "configmap osp.yaml", secret.stringData);
    assert.equal(config.listen.port, ports.get("s3"));
    assert.equal(config.admin.port, ports.get("admin"));
    assert.equal(config.admin.host, "0.0.0.0");
    assert.notEqual(config.workers, "auto");
    assert.ok(config.redis, "instances share Redis");

    // Drain: the preStop sleep and then drainTimeout must both end before the kubelet's SIGKILL.
    const [sleepCommand, sleepSeconds] = container.lifecycle.preStop.exec.command;
    assert.equal(sleepCommand, "sleep");
    assert.ok(Number(sleepSeconds) > 0);
    assert.ok(
      pod.terminationGracePeriodSeconds * 1000 > Number(sleepSeconds) * 1000 + config.shutdown.drainTimeout,
      "terminationGracePeriodSeconds > preStop sleep + drainTimeout",
    );

    // Services, HPA, PDB and ServiceMonitor point at what exists.
    const s3 = one<Service>("Service", "osp");
    const admin = one<Service>("Service", "osp-admin");
    for (const svc of [s3, admin]) {
      assert.ok(matches(svc.spec.selector));
      for (const p of svc.spec.ports)
        assert.ok(ports.has(p.targetPort), `${svc.metadata.name} → ${p.targetPort}`);
    }
    const hpa = one<Manifest & { spec: { scaleTargetRef: unknown; minReplicas: number } }>(
      "HorizontalPodAutoscaler",
    );
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "osp" });
    assert.ok(hpa.spec.minReplicas >= 2);
    assert.equal(deployment.spec.replicas, undefined, "the HPA owns the replica count");
    const pdb = one<Manifest & { spec: { selector: { matchLabels: Labels } } }>("PodDisruptionBudget");
    assert.ok(matches(pdb.spec.selector.matchLabels));
    const monitor = one<
      Manifest & {
        spec: { selector: { matchLabels: Labels }; endpoints: Array<{ port: string; path: string }> };
      }
    >("ServiceMonitor");
    const selects = (svc: Service) =>
      Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v);
    assert.ok(selects(admin), "the ServiceMonitor selects osp-admin");
    assert.ok(!selects(s3), "and not the S3 Service");
    assert.equal(monitor.spec.endpoints[0]?.port, admin.spec.ports[0]?.name);
    assert.equal(monitor.spec.endpoints[0]?.path, "/metrics");
  });

  test("kubectl kustomize builds the manifests", { skip: kubectl ? false : missing("kubectl") }, () => {
    const r = runTool(kubectl!, ["kustomize", join(DEPLOY, "k8s")]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /image: registry\.example\.com\/osp:0\.1\.0/);
  });
});
