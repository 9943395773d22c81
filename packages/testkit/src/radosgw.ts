/**
 * A real S3 upstream for tests: Ceph radosgw (Debian 12's Pacific) on a throwaway one-node RADOS
 * cluster. Unlike s3rver it verifies SigV4 (headers, presigned, chunk signatures), decodes aws-chunked
 * bodies and computes `<md5>-N` multipart ETags, so it proves what osp sends upstream is right.
 * One monitor, one memstore OSD (data in RAM), cephx off, everything under one temporary directory
 * and bound to 127.0.0.1 on ports chosen at run time.
 * Objects live in RAM, 1 GiB at most per harness. Pacific quirks a test may meet: no
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies (411), and an empty <ETag/> in CompleteMultipartUpload's
 * answer (the stored object has the right `<md5>-N` one).
 */
import { type ChildProcess, type ExecFileException, execFile, spawn } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./s3rver.js";

export interface RadosgwUpstream {
  readonly url: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The temporary directory holding the config, the daemons' data, sockets and logs (`log/`). */
  readonly directory: string;
  /** Kills every daemon this harness started and removes `directory`. Idempotent. */
  close(): Promise<void>;
}

// Debian installs every Ceph binary here; absolute paths keep the harness independent of PATH.
const BIN_DIR = "/usr/bin";
const SETPRIV = join(BIN_DIR, "setpriv");
const BINARIES = [
  "setpriv",
  "ceph",
  "ceph-authtool",
  "monmaptool",
  "ceph-mon",
  "ceph-osd",
  "radosgw",
  "radosgw-admin",
];
const RGW_NAME = "client.rgw.osp";
const ACCESS_KEY_ID = "OSPRADOSGWACCESSKEY1";
const SECRET_ACCESS_KEY = "osp-radosgw-secret-key-0123456789abcdefgh";
/** Each stage's bound; the whole start takes ~2 s on two cores, so these only catch hangs. */
const COMMAND_TIMEOUT_MS = 30_000;
const MON_TIMEOUT_MS = 20_000;
const OSD_UP_TIMEOUT_MS = 40_000;
const RGW_HTTP_TIMEOUT_MS = 60_000;

/** True when the Ceph binaries the harness runs are installed (`scripts/install-system-deps.sh`). */
export function radosgwAvailable(): boolean {
  return BINARIES.every((b) => existsSync(join(BIN_DIR, b)));
}

/**
 * Starts a monitor, a memstore OSD and radosgw, creates an S3 user and the given buckets, and
 * resolves once radosgw answers S3 on `url`. Rejects with the tail of the failing daemon's log if a
 * stage does not finish in time; everything started so far is then already cleaned up.
 */
export async function startRadosgw(options: { buckets?: readonly string[] } = {}): Promise<RadosgwUpstream> {
  if (!radosgwAvailable()) {
    throw new Error(
      `radosgw: Ceph binaries missing from ${BIN_DIR}; run scripts/install-system-deps.sh as root`,
    );
  }
  const cluster = new Cluster(mkdtempSync(join(tmpdir(), "osp-radosgw-")));
  try {
    const port = await cluster.start();
    const url = `http://127.0.0.1:${port}`;
    for (const bucket of new Set(options.buckets ?? [])) await createBucket(url, bucket);
    return {
      url,
      port,
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      directory: cluster.directory,
      close: () => cluster.close(),
    };
  } catch (error) {
    await cluster.close();
    throw error;
  }
}

interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
  /** Set when the process could not be started at all (then it has no exit code). */
  spawnError: string | null;
}

class Cluster {
  readonly directory: string;
  readonly conf: string;
  readonly daemons: Daemon[] = [];
  closed = false;

  constructor(directory: string) {
    this.directory = directory;
    this.conf = join(directory, "ceph.conf");
    for (const sub of ["run", "log", "mon", "osd", "rgw", "crash"]) mkdirSync(join(directory, sub));
  }

  /** Brings the cluster up in the order the reference gives; returns radosgw's HTTP port. */
  async start(): Promise<number> {
    const [monV2Port, monV1Port, rgwPort] = await threeFreePorts();
    const fsid = randomUUID();
    const osdUuid = randomUUID();
    const keyring = join(this.directory, "keyring");
    const monmap = join(this.directory, "monmap");
    const conf = ["-c", this.conf];
    writeFileSync(this.conf, cephConf(this.directory, fsid, monV2Port, monV1Port, rgwPort));

    // Auth is off, but the monitor's mkfs still wants a keyring with its own key.
    await this.run("ceph-authtool", ["--create-keyring", keyring, "--gen-key", "-n", "mon."]);
    await this.run("ceph-authtool", [keyring, "--gen-key", "-n", "client.admin"]);
    const addrs = monAddrs(monV2Port, monV1Port);
    await this.run("monmaptool", ["--create", "--fsid", fsid, "--addv", "a", addrs, monmap]);
    await this.run("ceph-mon", [...conf, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring]);
    const mon = this.spawn("mon.a", "ceph-mon", [...conf, "-f", "-i", "a"], "ceph-mon.a.log");
    await waitForPort(monV2Port, MON_TIMEOUT_MS, () => this.failure()).catch((e) =>
      this.fail("monitor", mon, e),
    );

    const osdId = (await this.run("ceph", [...conf, "osd", "new", osdUuid])).trim();
    if (!/^\d+$/.test(osdId))
      throw new Error(`radosgw: \`ceph osd new\` printed ${JSON.stringify(osdId)}, not an id`);
    mkdirSync(join(this.directory, "osd", `ceph-${osdId}`));
    await this.run("ceph-osd", [...conf, "--mkfs", "-i", osdId, "--osd-uuid", osdUuid]);
    const osd = this.spawn(`osd.${osdId}`, "ceph-osd", [...conf, "-f", "-i", osdId], `ceph-osd.${osdId}.log`);
    await this.waitForOsdUp().catch((e) => this.fail("OSD", osd, e));

    const rgw = this.spawn("radosgw", "radosgw", [...conf, "-n", RGW_NAME, "-f"], `ceph-${RGW_NAME}.log`);
    await waitForPort(rgwPort, RGW_HTTP_TIMEOUT_MS, () => this.failure()).catch((e) =>
      this.fail("radosgw", rgw, e),
    );
    const user = [`--access-key=${ACCESS_KEY_ID}`, `--secret-key=${SECRET_ACCESS_KEY}`];
    await this.run("radosgw-admin", [...conf, "user", "create", "--uid=osp", "--display-name=osp", ...user]);
    return rgwPort;
  }

  /** Polls `ceph osd stat` until the one OSD is up and in (each poll starts Python, ~0.3 s). */
  async waitForOsdUp(): Promise<void> {
    const until = Date.now() + OSD_UP_TIMEOUT_MS;
    for (;;) {
      const problem = this.failure();
      if (problem !== null) throw new Error(problem);
      const stat = JSON.parse(await this.run("ceph", ["-c", this.conf, "osd", "stat", "-f", "json"])) as {
        num_up_osds?: number;
        num_in_osds?: number;
      };
      if (stat.num_up_osds === 1 && stat.num_in_osds === 1) return;
      if (Date.now() > until) throw new Error(`OSD not up and in after ${OSD_UP_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs a Ceph tool to completion; rejects with its output when it fails or outlives the bound. */
  run(bin: string, args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        join(BIN_DIR, bin),
        args,
        { timeout: COMMAND_TIMEOUT_MS, cwd: this.directory },
        (error, stdout, stderr) => {
          if (error === null) resolve(stdout);
          else {
            const output = `${stderr}${stdout}`.slice(-3000);
            reject(
              new Error(`radosgw: \`${bin} ${args.join(" ")}\` failed (${failureOf(error)}):\n${output}`),
            );
          }
        },
      );
    });
  }

  /** Starts a daemon in the foreground; its stdout and stderr go to `log/NAME.out`. */
  spawn(name: string, bin: string, args: readonly string[], logName: string): Daemon {
    const out = openSync(join(this.directory, "log", `${name}.out`), "a");
    // setpriv execs the daemon (same PID) with a parent-death signal, so it cannot outlive this process
    // even when that is killed without running its exit hooks.
    const child = spawn(SETPRIV, ["--pdeathsig", "SIGKILL", "--", join(BIN_DIR, bin), ...args], {
      cwd: this.directory,
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    const daemon: Daemon = {
      name,
      child,
      logFile: join(this.directory, "log", logName),
      exited: new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.once("error", (error) => {
          daemon.spawnError = error.message;
          resolve();
        });
      }),
      spawnError: null,
    };
    this.daemons.push(daemon);
    return daemon;
  }

  /** Text naming a daemon that has died, with its log's tail; null while all run. */
  failure(): string | null {
    const dead = this.daemons.find((d) => !isRunning(d));
    if (dead === undefined) return null;
    const { exitCode, signalCode } = dead.child;
    const how = dead.spawnError ?? (exitCode !== null ? `exit code ${exitCode}` : `signal ${signalCode}`);
    return `${dead.name} exited (${how})${logTails(dead)}`;
  }

  fail(stage: string, daemon: Daemon, cause: unknown): never {
    const message = cause instanceof Error ? cause.message : String(cause);
    // failure() already appends the dead daemon's log; a timeout needs the waited-for daemon's.
    const tail = message.includes("--- tail of ") ? "" : logTails(daemon);
    throw new Error(`radosgw: ${stage} did not start: ${message}${tail}`, { cause });
  }

  /**
   * SIGKILL, not SIGTERM: the data is thrown away anyway, and a memstore OSD told to stop would first
   * write its whole store to disk.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.daemons.toReversed()) {
      if (isRunning(d)) d.child.kill("SIGKILL");
    }
    await Promise.all(this.daemons.map((d) => d.exited));
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function isRunning(daemon: Daemon): boolean {
  return daemon.spawnError === null && daemon.child.exitCode === null && daemon.child.signalCode === null;
}

function failureOf(error: ExecFileException): string {
  if (error.killed) return `killed after ${COMMAND_TIMEOUT_MS} ms`;
  return error.code !== undefined ? `exit code ${error.code}` : `signal ${error.signal}`;
}

function monAddrs(v2Port: number, v1Port: number): string {
  return `[v2:127.0.0.1:${v2Port},v1:127.0.0.1:${v1Port}]`;
}

/** The whole cluster's configuration; every path lives under `dir`, so nothing touches /var or /etc. */
function cephConf(dir: string, fsid: string, monV2Port: number, monV1Port: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon_host = ${monAddrs(monV2Port, monV1Port)}
public_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = ${dir}/keyring
run_dir = ${dir}/run
pid_file = ${dir}/run/$name.pid
admin_socket = ${dir}/run/$name.asok
log_file = ${dir}/log/$cluster-$name.log
mon_cluster_log_file = ${dir}/log/$cluster.$channel.log
crash_dir = ${dir}/crash
mon_data = ${dir}/mon/$cluster-$id
osd_data = ${dir}/osd/$cluster-$id
rgw_data = ${dir}/rgw/$cluster-$id
osd_objectstore = memstore
memstore_device_bytes = ${1024 * 1024 * 1024}
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
# Every pool radosgw creates is a monitor commit; the default 1 s batching makes start-up ~10 s slower.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
# A nearly full disk would otherwise make the monitor shut itself down (default: under 5 % free).
mon_data_avail_crit = 1

[client]
# With auth off a client would otherwise insist on a secure-mode monitor connection and hang.
ms_mon_client_mode = crc secure

[${RGW_NAME}]
rgw_frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw_thread_pool_size = 64
`;
}

/** Three distinct free ports: the monitor's v2 and v1 addresses and radosgw's HTTP endpoint. */
async function threeFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [a = 0, b = 0, c = 0] = ports;
  return [a, b, c];
}

/** The last lines of the daemon's Ceph log and of its captured stdout/stderr. */
function logTails(daemon: Daemon): string {
  const out = join(daemon.logFile, "..", `${daemon.name}.out`);
  return [daemon.logFile, out].map((f) => `\n--- tail of ${f} ---\n${tailOf(f)}`).join("");
}

function tailOf(file: string, maxBytes = 3000): string {
  if (!existsSync(file)) return "(no such file)";
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.subarray(0, read).toString("utf8").split("\n");
    // A tail that starts mid-file starts mid-line: drop that partial first line.
    return (start > 0 ? lines.slice(1) : lines).join("\n");
  } finally {
    closeSync(fd);
  }
}

/** CreateBucket, signed with SigV4 here so the testkit needs no AWS SDK. */
async function createBucket(url: string, bucket: string): Promise<void> {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(`radosgw: invalid bucket name ${bucket}`);
  const { status, body } = await signedRequest(url, "PUT", `/${bucket}`);
  if (status !== 200) throw new Error(`radosgw: CreateBucket ${bucket} answered ${status}: ${body}`);
}

/**
 * A body-less request signed with AWS Signature Version 4 (header form, region us-east-1)
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * `path` must already be URI-encoded.
 */
function signedRequest(url: string, method: string, path: string): Promise<{ status: number; body: string }> {
  const { host, hostname, port } = new URL(url);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const payloadHash = sha256Hex("");
  const headers: Record<string, string> = {
    host,
    "x-amz-content-sha256": payloadHash,
    "x-amz-date": amzDate,
  };
  const signedHeaders = Object.keys(headers).sort().join(";");
  const canonicalHeaders = Object.keys(headers)
    .sort()
    .map((k) => `${k}:${headers[k]}\n`)
    .join("");
  const canonicalRequest = [method, path, "", canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${SECRET_ACCESS_KEY}`, amzDate.slice(0, 8));
  for (const part of ["us-east-1", "s3", "aws4_request"]) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString("hex");
  headers["authorization"] =
    `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers, timeout: COMMAND_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function sha256Hex(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
