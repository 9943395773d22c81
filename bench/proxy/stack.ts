/**
 * The processes of a run. The base (origin nginx, bearer upstream, the memory scenario's upstream) lives
 * for the whole run; the gateways (osp and nginx proxy, with the same worker count) are started per worker
 * count, so a scaling run restarts them while the upstreams stay.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, freePort, removeOnExit, repoRoot, startChild, waitForPort } from "./children.js";
import { ledgerUsable } from "./ledger.js";
import { startMemUpstream } from "./memory.js";
import { originConf, proxyConf, startNginx } from "./nginx.js";
import type { Options } from "./options.js";
import { startOsp } from "./osp-process.js";
import { IAM_OBJECT, OBJECTS, PUT_BYTES } from "./scenarios.js";

export interface Base {
  readonly dir: string;
  readonly origin: Child;
  readonly originPort: number;
  readonly bearer: {
    readonly child: Child;
    readonly port: number;
    readonly iamUrl: string;
    readonly token: string;
  } | null;
  readonly memPort: number;
  readonly memServer: Server | null;
  readonly putBody: Buffer;
  close(): Promise<void>;
}

export interface Gateways {
  readonly workers: number;
  /** osp with its logging defaults (access log on, level info). */
  readonly osp: Child;
  readonly ospPort: number;
  /** A second osp, quiet (no access log, level warn), when a `-nolog` scenario runs. */
  readonly quietOsp: { readonly child: Child; readonly port: number } | null;
  readonly proxy: Child;
  readonly proxyPort: number;
  close(): Promise<void>;
}

/** A tmpfs directory where there is one: uploads and temp files then cost no disk I/O. */
function scratchDir(): string {
  const shm = "/dev/shm";
  const parent = existsSync(shm) ? shm : tmpdir();
  const dir = mkdtempSync(join(parent, "osp-bench-"));
  removeOnExit(dir);
  return dir;
}

async function lineOf(child: Child, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = child
      .output()
      .split("\n")
      .find((l) => l.startsWith("{"));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`${child.name} printed nothing:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startBase(o: Options, fail: (message: string) => void): Promise<Base> {
  const dir = scratchDir();
  const root = join(dir, "root");
  mkdirSync(join(root, "bench", "put"), { recursive: true });
  for (const [name, bytes] of Object.entries(OBJECTS))
    writeFileSync(join(root, "bench", `${name}.bin`), Buffer.alloc(bytes, 0x63));
  const originPort = await freePort();
  const origin = startNginx(
    "origin",
    dir,
    originConf({ dir, port: originPort, workers: o.originWorkers, root }),
    fail,
  );
  let bearer: Base["bearer"] = null;
  if (o.scenarios.some((s) => s.startsWith("iam-"))) {
    const script = join(repoRoot, "bench", "dist", "proxy", "bearer-upstream.js");
    const child = startChild(
      "bearer upstream",
      process.execPath,
      [script, IAM_OBJECT.path, String(IAM_OBJECT.bytes)],
      fail,
    );
    const info = JSON.parse(await lineOf(child, 20_000)) as { port: number; iamUrl: string; token: string };
    bearer = { child, ...info };
  }
  const memPort = await freePort();
  const memServer = o.scenarios.includes("memory-1g") ? await startMemUpstream(o.memBytes, memPort) : null;
  await waitForPort(originPort);
  return {
    dir,
    origin,
    originPort,
    bearer,
    memPort,
    memServer,
    putBody: randomBytes(PUT_BYTES),
    async close() {
      memServer?.closeAllConnections();
      memServer?.close();
      await Promise.all([origin.stop(), bearer?.child.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startGateways(
  base: Base,
  o: Options,
  workers: number,
  fail: (message: string) => void,
): Promise<Gateways> {
  const [ospPort, adminPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
  const connections = o.connections(workers);
  const ospOptions = {
    dir: base.dir,
    port: ospPort,
    adminPort,
    workers,
    originPort: base.originPort,
    memPort: base.memPort,
    bearer: base.bearer === null ? null : { port: base.bearer.port, iamUrl: base.bearer.iamUrl },
    cold: !o.scenarios.some((s) => s.startsWith("cold-"))
      ? null
      : o.coldSource === "hook"
        ? ({ source: "hook" } as const)
        : ({ source: "config", keys: o.coldWarmupKeys + o.rounds * o.coldKeysPerRound } as const),
    // Per worker, as upstream pools are: enough for every client connection landing on one worker.
    poolConnections: Math.max(32, connections),
    verifyMode: o.verifyMode,
    spoolMiB: o.spoolMiB,
    logging: "default" as const,
    profiled: o.ledger.length > 0 && ledgerUsable(),
  };
  const osp = startOsp(ospOptions, fail);
  let quietOsp: Gateways["quietOsp"] = null;
  if (o.scenarios.some((s) => s.endsWith("-nolog"))) {
    const [port, quietAdmin] = [await freePort(), await freePort()];
    quietOsp = {
      child: startOsp({ ...ospOptions, port, adminPort: quietAdmin, logging: "quiet" }, fail),
      port,
    };
  }
  const proxy = startNginx(
    "proxy",
    base.dir,
    proxyConf({
      dir: base.dir,
      port: proxyPort,
      workers,
      originPort: base.originPort,
      bearerPort: base.bearer?.port ?? null,
      keepalive: Math.max(32, connections),
    }),
    fail,
  );
  await Promise.all([
    waitForPort(ospPort, 60_000),
    waitForPort(proxyPort),
    quietOsp === null ? null : waitForPort(quietOsp.port, 60_000),
  ]);
  return {
    workers,
    osp,
    ospPort,
    quietOsp,
    proxy,
    proxyPort,
    async close() {
      await Promise.all([osp.stop(35_000), quietOsp?.child.stop(35_000), proxy.stop()]);
    },
  };
}
