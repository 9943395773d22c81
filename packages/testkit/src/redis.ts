/**
 * Real Redis for tests: `redis-server` (from PATH) in child processes on 127.0.0.1, nothing persisted
 * (`--save "" --appendonly no`), each in its own temporary directory. A standalone server can be
 * killed, stopped, paused and restarted on the same port, so clients see an outage and reconnect; a
 * cluster is N masters joined with `redis-cli --cluster create`, and can be killed and restarted whole.
 * Never port 6379: a shared Redis lives there.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./s3rver.js";

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** SIGTERM, then waits for the exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (connections reset at once), then waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers, like a hung server or a partition. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Starts it again on the same port (empty), so clients reconnect to the same URL. */
  start(): Promise<void>;
}

export interface RedisClusterServer {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` */
  readonly url: string;
  readonly ports: readonly number[];
  /** Stops every node and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILLs every node at once (connections reset), then waits for the exits. */
  kill(): Promise<void>;
  /**
   * Starts the stopped or killed nodes again on the same ports with their cluster config files, so the
   * cluster re-forms with the same slots (and no keys); resolves at cluster_state:ok on every node.
   */
  start(): Promise<void>;
}

export interface RedisSentinelServer {
  /** `redis+sentinel://127.0.0.1:SENTINEL_PORT/osp-master` */
  readonly url: string;
  readonly masterName: string;
  /** The monitored master (kill/start it to see an outage). */
  readonly master: RedisServer;
  readonly sentinelPort: number;
  /** Stops the sentinel and the master. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const CLUSTER_TIMEOUT_MS = 30_000;
const BASE_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"];

/** Children still running; killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** One redis-server process; `exited` settles when it is gone. */
class RedisProcess {
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  #output = "";

  constructor(
    readonly port: number,
    readonly directory: string,
    extraArgs: readonly string[],
    configFile: string | null = null,
  ) {
    const args = [...(configFile === null ? [] : [configFile]), "--port", String(port), "--dir", directory];
    args.push(...BASE_ARGS, ...extraArgs);
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    running.add(child);
    const keep = (d: Buffer) => {
      this.#output = (this.#output + d.toString()).slice(-4_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", (err) => {
        this.#output += String(err);
        resolve();
      });
    }).then(() => {
      running.delete(child);
    });
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null && running.has(this.#child);
  }

  async ready(): Promise<void> {
    await waitForPort(this.port, START_TIMEOUT_MS, () =>
      this.alive ? null : `redis-server on port ${this.port} exited: ${this.#output}`,
    );
  }

  signal(name: NodeJS.Signals): void {
    if (this.alive) this.#child.kill(name);
  }

  async end(name: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (this.alive) {
      this.#child.kill("SIGCONT");
      this.#child.kill(name);
    }
    await this.exited;
  }
}

/** Starts a standalone redis-server on a free port (or `options.port`); `args` are extra redis-server options. */
export async function startRedis(
  options: { port?: number; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  let current: RedisProcess | null = null;
  const launch = async () => {
    const directory = mkdtempSync(join(tmpdir(), "osp-redis-"));
    const proc = new RedisProcess(port, directory, options.args ?? []);
    current = proc;
    // `exited` never rejects (see RedisProcess).
    void proc.exited.then(() => rmSync(directory, { recursive: true, force: true }));
    await proc.ready();
  };
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    const proc = current;
    current = null;
    if (proc !== null) await proc.end(signal);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    pause: () => current?.signal("SIGSTOP"),
    resume: () => current?.signal("SIGCONT"),
    async start() {
      if (current?.alive) return;
      await launch();
    },
  };
}

/**
 * Starts `nodes` (default 3) masters, joins them into one cluster and waits for cluster_state:ok. Each
 * node's `nodes-PORT.conf` (written by redis-server whatever `--save` says) stays in the shared directory
 * until `stop()`, which is what lets `start()` bring the same cluster back after `kill()`.
 */
export async function startRedisCluster(options: { nodes?: number } = {}): Promise<RedisClusterServer> {
  const count = options.nodes ?? 3;
  const directory = mkdtempSync(join(tmpdir(), "osp-redis-cluster-"));
  const nodes: { port: number; args: string[]; proc: RedisProcess | null }[] = [];
  let stopped = false;
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    await Promise.all(nodes.map((n) => n.proc?.end(signal)));
  };
  const stop = async () => {
    stopped = true;
    await end("SIGTERM");
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      // The bus port is chosen too: the default (port + 10000) may be taken or past 65535.
      const [port, busPort] = [await freePort(), await freePort()];
      const args = ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`];
      args.push("--cluster-port", String(busPort), "--cluster-node-timeout", "5000");
      nodes.push({ port, args, proc: new RedisProcess(port, directory, args) });
    }
    await Promise.all(nodes.map((n) => n.proc?.ready()));
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await redisCli(["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    await waitForClusterOk(nodes.map((n) => n.port));
  } catch (err) {
    await stop();
    throw err;
  }
  const ports = nodes.map((n) => n.port);
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    ports,
    stop,
    kill: () => end("SIGKILL"),
    async start() {
      if (stopped) throw new Error("redis cluster was stopped: its directory is gone");
      for (const n of nodes) {
        if (n.proc?.alive) continue;
        n.proc = new RedisProcess(n.port, directory, n.args);
      }
      await Promise.all(nodes.map((n) => n.proc?.ready()));
      await waitForClusterOk(ports);
    },
  };
}

/** Polls `CLUSTER INFO` on every node until each says cluster_state:ok. */
async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const until = Date.now() + CLUSTER_TIMEOUT_MS;
  for (const port of ports) {
    while (!(await redisCli(["-p", String(port), "cluster", "info"])).includes("cluster_state:ok")) {
      if (Date.now() > until) throw new Error(`redis cluster node ${port} never reached cluster_state:ok`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A master and one Sentinel monitoring it (quorum 1). Sentinel rewrites its config file, so that file
 * lives in the sentinel's own temporary directory.
 */
export async function startRedisSentinel(): Promise<RedisSentinelServer> {
  const masterName = "osp-master";
  const master = await startRedis();
  const directory = mkdtempSync(join(tmpdir(), "osp-redis-sentinel-"));
  const configFile = join(directory, "sentinel.conf");
  writeFileSync(configFile, `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1\n`);
  let sentinel: RedisProcess | null = null;
  const stop = async () => {
    await sentinel?.end("SIGTERM");
    await master.stop();
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    sentinel = new RedisProcess(port, directory, ["--sentinel"], configFile);
    await sentinel.ready();
    const until = Date.now() + START_TIMEOUT_MS;
    const asked = ["-p", String(port), "sentinel", "get-master-addr-by-name", masterName];
    while (!(await redisCli(asked)).includes(String(master.port))) {
      if (Date.now() > until) throw new Error(`sentinel on ${port} does not know ${masterName}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      url: `redis+sentinel://127.0.0.1:${port}/${masterName}`,
      masterName,
      master,
      sentinelPort: port,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function redisCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "redis-cli",
      ["-h", "127.0.0.1", ...args],
      { timeout: CLUSTER_TIMEOUT_MS },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`redis-cli ${args.join(" ")} failed: ${err.message} ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
