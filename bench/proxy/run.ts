/**
 * Proxy benchmark: osp against nginx `proxy_pass` and against the upstream itself, plus osp's peak RSS
 * while streaming 1 GiB down and 1 GiB up.
 *
 * Usage (after `npx tsc -b`):
 *   node bench/dist/proxy/run.js           3 rounds × 5 s per target and size, medians; writes the JSON
 *   node bench/dist/proxy/run.js --quick   1 round × 1 s, smaller memory test (256 MiB); writes nothing
 *   options: --rounds N, --seconds S, --mem-mib M (size of the memory transfers, default 1024),
 *            --sizes 1k,8m (which GET sizes to measure)
 *   OSP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes Node flags to the osp process (profiling).
 * Needs /usr/sbin/nginx and /usr/bin/wrk. Everything runs on 127.0.0.1 with OS-chosen ports in a temp dir:
 * one nginx process (a static upstream and a proxy_pass server block in front of it), the real CLI
 * (`node packages/cli/bin/osp.js serve`) as a separate process, wrk as the load generator. The memory
 * transfers run first, on a fresh osp, against a node:http upstream in this process (VmHWM is reset via
 * /proc/<pid>/clear_refs before each, where permitted); the wrk rounds follow. Prints a table
 * and writes `bench/results/proxy-<date>-<commit>.json` with the machine, Node version and commit.
 */
import { type ChildProcess, execFile, execSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { createConnection, createServer as createNetServer } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { signRequest } from "@osp/sigv4";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const ROUNDS = option("--rounds", quick ? 1 : 3);
const SECONDS = option("--seconds", quick ? 1 : 5);
const WARMUP_SECONDS = quick ? 1 : 2;
const MEM_BYTES = option("--mem-mib", quick ? 256 : 1024) * 2 ** 20;
/**
 * osp (its uWebSockets.js listener) closes the connection without a response when Content-Length has 10+
 * digits (≥ 1 000 000 000), although MAX_OBJECT_BYTES is 5 GiB; so the upload is capped just below.
 */
const MAX_UP_BYTES = 999_999_999;
const UP_BYTES = Math.min(MEM_BYTES, MAX_UP_BYTES);
const CONNECTIONS = 16;
const NGINX = "/usr/sbin/nginx";
const WRK = "/usr/bin/wrk";
const HOST = "127.0.0.1";
const CLIENT = { accessKeyId: "BENCHACCESSKEY01", secretAccessKey: "bench-secret-key-0123456789" };
const ALL_SIZES = [
  { name: "1k", bytes: 1024 },
  { name: "8m", bytes: 8 * 2 ** 20 },
] as const;
/** `--sizes 1k` (comma-separated) measures only those sizes, e.g. to profile one path. */
const sizesArg = args.includes("--sizes") ? (args[args.indexOf("--sizes") + 1] ?? "") : null;
const SIZES = ALL_SIZES.filter((s) => sizesArg === null || sizesArg.split(",").includes(s.name));
type Target = "upstream" | "nginx" | "osp";
const TARGETS: readonly Target[] = ["upstream", "nginx", "osp"];
const repoRoot = join(import.meta.dirname, "..", "..", "..");

// ---------------------------------------------------------------- processes and cleanup

const children: ChildProcess[] = [];
const servers: Server[] = [];
let tmp = "";

function cleanup(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  tmp = "";
}
process.on("exit", cleanup);

/** SIGTERM to each child's group and wait (nginx's master reaps its worker), then `cleanup` SIGKILLs. */
async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
      const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        return;
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }),
  );
  cleanup();
}
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

function start(cmd: string, argv: string[], name: string): ChildProcess {
  // Its own process group, so that killing the group also takes nginx's worker with it.
  const child = spawn(cmd, argv, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  outputs.set(name, () => out);
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited early (code ${code}, signal ${signal}):\n${out}\n`);
      cleanup();
      process.exit(1);
    }
  });
  children.push(child);
  return child;
}
let stopping = false;
const outputs = new Map<string, () => string>();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on("error", reject);
    s.listen(0, HOST, () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: HOST, port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${HOST}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- signing and requests

function signedHeaders(method: string, path: string, port: number): Array<[string, string]> {
  const host = `${HOST}:${port}`;
  const signed = signRequest({
    method,
    rawPath: path,
    rawQuery: "",
    headers: [["host", host]],
    payloadHash: "UNSIGNED-PAYLOAD",
    ...CLIENT,
    region: "us-east-1",
  });
  return [["host", host], ...signed.headersToAdd.map(([k, v]): [string, string] => [k, v])];
}

interface Fetched {
  status: number;
  contentLength: string | undefined;
  bytes: number;
  body: string;
}

async function get(port: number, path: string, headers: Array<[string, string]>): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: HOST, port, method: "GET", path, headers: Object.fromEntries(headers) },
      (res) => {
        let bytes = 0;
        const head: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          if (bytes < 2048) head.push(c);
          bytes += c.length;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentLength: res.headers["content-length"],
            bytes,
            body: Buffer.concat(head).toString("utf8", 0, 2048),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// ---------------------------------------------------------------- wrk

interface WrkResult {
  rps: number;
  mbps: number; // MB/s, 10^6 bytes
  p50ms: number;
  p99ms: number;
  requests: number;
}

const LATENCY_UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNIT: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

function parseWrk(out: string): WrkResult {
  const num = (re: RegExp, what: string): RegExpMatchArray => {
    const m = out.match(re);
    if (m === null) throw new Error(`wrk output has no ${what}:\n${out}`);
    return m;
  };
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses:\n${out}`);
  const errors = out.match(/Socket errors: .*/);
  if (errors !== null && /(read|write|timeout) [1-9]/.test(errors[0]))
    throw new Error(`wrk saw socket errors:\n${out}`);
  const lat = (p: string) => {
    const m = num(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m"), `${p}% latency`);
    return Number(m[1]) * (LATENCY_UNIT[m[2] ?? "ms"] ?? 1);
  };
  const t = num(/Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/, "Transfer/sec");
  return {
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/, "Requests/sec")[1]),
    mbps: (Number(t[1]) * (SIZE_UNIT[t[2] ?? "B"] ?? 1)) / 1e6,
    p50ms: lat("50"),
    p99ms: lat("99"),
    requests: Number(num(/(\d+) requests in/, "request count")[1]),
  };
}

async function wrk(port: number, path: string, seconds: number): Promise<WrkResult> {
  const headers = signedHeaders("GET", path, port);
  const argv = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency"];
  // wrk adds its own Host unless a header spelled exactly "Host" is given (two Hosts: 400 at nginx).
  for (const [k, v] of headers) argv.push("-H", `${k === "host" ? "Host" : k}: ${v}`);
  argv.push(`http://${HOST}:${port}${path}`);
  const out = await new Promise<string>((resolve, reject) =>
    execFile(WRK, argv, { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`wrk failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  try {
    return parseWrk(out);
  } catch (err) {
    const r = await get(port, path, headers);
    throw new Error(`${(err as Error).message}\none request by hand: ${r.status}\n${r.body}`);
  }
}

// ---------------------------------------------------------------- memory: 1 GiB down and up through osp

/** A tiny upstream: GET streams `size` generated bytes; PUT discards the body and answers 200 + ETag. */
async function startMemUpstream(size: number, port: number): Promise<{ received: () => number }> {
  const chunk = Buffer.alloc(2 ** 20, 0x61);
  let received = 0;
  const server = createHttpServer((req, res) => {
    if (req.method === "PUT") {
      req.on("data", (c: Buffer) => {
        received += c.length;
      });
      req.on("end", () => {
        res.writeHead(200, { etag: '"00000000000000000000000000000000"', "content-length": "0" });
        res.end();
      });
      return;
    }
    if (req.method !== "GET") {
      res.writeHead(405, { "content-length": "0" }).end();
      return;
    }
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": String(size),
      etag: '"11111111111111111111111111111111"',
    });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    res.on("close", () => res.off("drain", pump));
    pump();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  return { received: () => received };
}

function procStatus(pid: number): { hwmKiB: number; rssKiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (k: string) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? Number.NaN);
  return { hwmKiB: kib("VmHWM"), rssKiB: kib("VmRSS") };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not permitted. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

interface MemResult {
  direction: "down" | "up";
  bytes: number;
  seconds: number;
  mbps: number;
  rssBeforeMiB: number;
  peakRssMiB: number; // VmHWM after the transfer (reset before it when possible)
  peakSampledMiB: number; // max VmRSS polled every 50 ms
  hwmReset: boolean;
}

async function memTransfer(direction: "down" | "up", ospPort: number, pid: number): Promise<MemResult> {
  const path = "/mem/big.bin";
  const hwmReset = resetPeak(pid);
  const before = procStatus(pid);
  let sampled = before.rssKiB;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, procStatus(pid).rssKiB);
  }, 50);
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  try {
    if (direction === "down") {
      const r = await get(ospPort, path, signedHeaders("GET", path, ospPort));
      if (r.status !== 200) throw new Error(`GET through osp: ${r.status} ${r.body}`);
      bytes = r.bytes;
    } else {
      bytes = await putThroughOsp(ospPort, path, UP_BYTES);
    }
  } catch (err) {
    throw new Error(
      `${direction} ${MEM_BYTES} bytes through osp: ${(err as Error).message}\nosp output:\n${outputs.get("osp")?.() ?? ""}`,
    );
  } finally {
    clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const want = direction === "down" ? MEM_BYTES : UP_BYTES;
  if (bytes !== want) throw new Error(`${direction}: moved ${bytes} bytes, expected ${want}`);
  const after = procStatus(pid);
  sampled = Math.max(sampled, after.rssKiB);
  return {
    direction,
    bytes,
    seconds,
    mbps: bytes / seconds / 1e6,
    rssBeforeMiB: before.rssKiB / 1024,
    peakRssMiB: after.hwmKiB / 1024,
    peakSampledMiB: sampled / 1024,
    hwmReset,
  };
}

async function putThroughOsp(port: number, path: string, size: number): Promise<number> {
  const headers = signedHeaders("PUT", path, port);
  headers.push(["content-length", String(size)]);
  const chunk = Buffer.alloc(2 ** 20, 0x62);
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = httpRequest(
      { host: HOST, port, method: "PUT", path, headers: Object.fromEntries(headers) },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(sent)
            : reject(new Error(`PUT through osp: ${res.statusCode} ${body}`)),
        );
      },
    );
    const t0 = Date.now();
    req.on("error", (err) =>
      reject(new Error(`${err.message} after ${sent} bytes written, ${Date.now() - t0} ms`, { cause: err })),
    );
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

// ---------------------------------------------------------------- main

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function main(): Promise<void> {
  tmp = mkdtempSync(join(tmpdir(), "osp-proxy-bench-"));
  const root = join(tmp, "root");
  mkdirSync(join(root, "bench"), { recursive: true });
  for (const s of SIZES) writeFileSync(join(root, "bench", `${s.name}.bin`), Buffer.alloc(s.bytes, 0x63));
  for (const d of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"]) mkdirSync(join(tmp, d));

  const ports = {
    upstream: await freePort(),
    nginx: await freePort(),
    osp: await freePort(),
    mem: await freePort(),
  };

  // nginx: static upstream + proxy_pass baseline, one process, one worker.
  const conf = join(tmp, "nginx.conf");
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
error_log ${join(tmp, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${join(tmp, "client_body")};
  proxy_temp_path ${join(tmp, "proxy")};
  fastcgi_temp_path ${join(tmp, "fastcgi")};
  uwsgi_temp_path ${join(tmp, "uwsgi")};
  scgi_temp_path ${join(tmp, "scgi")};
  upstream origin { server ${HOST}:${ports.upstream}; keepalive 32; }
  server {
    listen ${HOST}:${ports.upstream};
    root ${root};
  }
  server {
    listen ${HOST}:${ports.nginx};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # stream the body (like osp) instead of spooling large responses to temp files
      proxy_max_temp_file_size 0;
    }
  }
}
`,
  );
  start(NGINX, ["-p", tmp, "-c", conf, "-g", `daemon off; pid ${join(tmp, "nginx.pid")};`], "nginx");

  // osp: the real CLI, a separate process.
  const ospConf = join(tmp, "osp.yaml");
  writeFileSync(
    ospConf,
    `listen: { host: ${HOST}, port: ${ports.osp} }
logging: { level: warn, accessLog: false }
endpoints:
  origin:
    url: http://${HOST}:${ports.upstream}
    addressing: path
    auth: { type: hmac, accessKeyId: x, secretAccessKey: y }
  mem:
    url: http://${HOST}:${ports.mem}
    addressing: path
    auth: { type: hmac, accessKeyId: x, secretAccessKey: y }
buckets:
  bench: { endpoint: origin }
  mem: { endpoint: mem }
credentials:
  - { accessKeyId: ${CLIENT.accessKeyId}, secretAccessKey: ${CLIENT.secretAccessKey}, principal: bench }
authorization:
  rules:
    - { principal: bench, buckets: [bench, mem], actions: ["*"] }
`,
  );
  const osp = start(
    process.execPath,
    [...nodeArgsForOsp(), join(repoRoot, "packages/cli/bin/osp.js"), "serve", "--config", ospConf],
    "osp",
  );
  const ospPid = osp.pid ?? 0;
  process.stderr.write(`ports: ${JSON.stringify(ports)}\n`);
  await Promise.all([waitForPort(ports.upstream), waitForPort(ports.nginx), waitForPort(ports.osp)]);

  const ospIdleMiB = procStatus(ospPid).rssKiB / 1024;
  // Verify every target once.
  for (const t of TARGETS)
    for (const s of SIZES) {
      const path = `/bench/${s.name}.bin`;
      const r = await get(ports[t], path, signedHeaders("GET", path, ports[t]));
      if (r.status !== 200 || r.contentLength !== String(s.bytes) || r.bytes !== s.bytes)
        throw new Error(
          `${t} GET ${path}: status ${r.status}, content-length ${r.contentLength}, ${r.bytes} bytes (want 200, ${s.bytes})\n${r.body}`,
        );
    }

  const commit = (() => {
    try {
      return execSync("git rev-parse --short HEAD", { encoding: "utf8", cwd: repoRoot }).trim();
    } catch {
      return "unknown";
    }
  })();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const date = new Date().toISOString().slice(0, 10);
  const nginxVersion = execSync(`${NGINX} -v 2>&1`, { encoding: "utf8" }).trim();
  process.stdout.write(
    `machine: ${machine}\nnode: ${process.version}\ncommit: ${commit}\n${nginxVersion}\n` +
      `wrk -t1 -c${CONNECTIONS}, ${ROUNDS} round(s) × ${SECONDS} s, warm-up ${WARMUP_SECONDS} s\n\n`,
  );

  // Memory first, on a fresh osp (only the verification requests before), so the peak is the streaming.
  await startMemUpstream(MEM_BYTES, ports.mem);
  const mem: MemResult[] = [];
  for (const dir of ["down", "up"] as const) mem.push(await memTransfer(dir, ports.osp, ospPid));

  // Load: warm-up, then rounds alternating targets.
  const samples = new Map<string, WrkResult[]>();
  for (const s of SIZES) {
    const path = `/bench/${s.name}.bin`;
    for (const t of TARGETS) await wrk(ports[t], path, WARMUP_SECONDS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? TARGETS : [...TARGETS].reverse();
      for (const t of order) {
        const r = await wrk(ports[t], path, SECONDS);
        const key = `${s.name}/${t}`;
        samples.set(key, [...(samples.get(key) ?? []), r]);
        process.stderr.write(`  ${key} round ${round + 1}: ${r.rps.toFixed(0)} req/s\n`);
      }
    }
  }
  const rows = SIZES.flatMap((s) =>
    TARGETS.map((t) => {
      const xs = samples.get(`${s.name}/${t}`) ?? [];
      return {
        size: s.name,
        target: t,
        rps: median(xs.map((x) => x.rps)),
        mbps: median(xs.map((x) => x.mbps)),
        p50ms: median(xs.map((x) => x.p50ms)),
        p99ms: median(xs.map((x) => x.p99ms)),
        rounds: xs,
      };
    }),
  );
  const ratios = SIZES.map((s) => {
    const n = rows.find((r) => r.size === s.name && r.target === "nginx");
    const o = rows.find((r) => r.size === s.name && r.target === "osp");
    return {
      size: s.name,
      rps: (o?.rps ?? 0) / (n?.rps ?? 1),
      mbps: (o?.mbps ?? 0) / (n?.mbps ?? 1),
      p50: (o?.p50ms ?? 0) / (n?.p50ms ?? 1),
      p99: (o?.p99ms ?? 0) / (n?.p99ms ?? 1),
    };
  });

  process.stdout.write(
    `${"size".padEnd(5)}${"target".padEnd(10)}${"req/s".padStart(11)}${"MB/s".padStart(10)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.size.padEnd(5)}${r.target.padEnd(10)}${r.rps.toFixed(0).padStart(11)}${r.mbps.toFixed(1).padStart(10)}${r.p50ms.toFixed(3).padStart(10)}${r.p99ms.toFixed(3).padStart(10)}\n`,
    );
  process.stdout.write("\nosp / nginx:\n");
  for (const q of ratios)
    process.stdout.write(
      `${q.size.padEnd(5)}req/s ×${q.rps.toFixed(2)}  MB/s ×${q.mbps.toFixed(2)}  p50 ×${q.p50.toFixed(2)}  p99 ×${q.p99.toFixed(2)}\n`,
    );

  const ospAfterLoadMiB = procStatus(ospPid).rssKiB / 1024;
  process.stdout.write(
    `\nosp memory, ${MEM_BYTES} bytes down, ${UP_BYTES} up, one request each (target < 128 MiB); ` +
      `RSS idle at start ${ospIdleMiB.toFixed(1)} MiB, after the wrk runs ${ospAfterLoadMiB.toFixed(1)} MiB:\n`,
  );
  for (const m of mem)
    process.stdout.write(
      `${m.direction.padEnd(5)}${m.bytes.toString().padStart(11)} B ${m.mbps.toFixed(0).padStart(6)} MB/s  RSS before ${m.rssBeforeMiB.toFixed(1)} MiB, peak ${m.peakRssMiB.toFixed(1)} MiB (VmHWM${m.hwmReset ? ", reset before" : ", since start"}; sampled ${m.peakSampledMiB.toFixed(1)} MiB)\n`,
    );

  stopping = true;
  if (!quick) {
    const dir = join(repoRoot, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `proxy-${date}-${commit}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          kind: "proxy",
          date,
          commit,
          node: process.version,
          machine,
          nginx: nginxVersion,
          wrk: {
            threads: 1,
            connections: CONNECTIONS,
            rounds: ROUNDS,
            seconds: SECONDS,
            warmupSeconds: WARMUP_SECONDS,
          },
          rows,
          ratios,
          memory: { targetMiB: 128, transferBytes: MEM_BYTES, ospIdleMiB, ospAfterLoadMiB, rows: mem },
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\nwrote ${file}\n`);
  }
}

try {
  await main();
} catch (err) {
  stopping = true;
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
  process.exit();
}

/** Extra Node flags for the osp process, e.g. `OSP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`. */
function nodeArgsForOsp(): string[] {
  return (process.env.OSP_BENCH_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
}
