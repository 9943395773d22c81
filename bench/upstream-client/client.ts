/**
 * One measurement in a fresh process: `node client.js <osp|undici> <small|big> <origin> [requests]`. Prints one
 * JSON line: requests, seconds, CPU µs per request (this process only), bytes, peak RSS (VmHWM) and RSS before.
 *
 * `osp` is the gateway's own client (`sendUpstream`); `undici` is undici's Pool driven by the handler shape osp
 * used before it had its own client (dispatch(), raw headers, a callback per chunk): the two side by side.
 */
import { readFileSync } from "node:fs";
import { sendUpstream, UpstreamPools } from "@osp/upstream";
import { Pool } from "undici";

const [impl = "osp", scenario = "small", origin = "", countText = "100000"] = process.argv.slice(2);
const CONCURRENCY = 16;
const total = scenario === "big" ? 1 : Number(countText);

type Get = (path: string, onDone: (bytes: number) => void) => void;

function ospClient(): Get {
  const pools = new UpstreamPools({ connections: CONCURRENCY });
  return (path, onDone) => {
    let bytes = 0;
    sendUpstream(
      pools,
      { origin, method: "GET", path, headers: [["host", "bench.example"]], body: null },
      {
        onHeaders() {},
        onData(chunk) {
          bytes += chunk.length;
          return true;
        },
        onComplete: () => onDone(bytes),
        onError(err) {
          throw err;
        },
      },
    );
  };
}

function undiciClient(): Get {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  return (path, onDone) => {
    let bytes = 0;
    pool.dispatch(
      { path, method: "GET", headers: ["host", "bench.example"] },
      {
        onConnect() {},
        onHeaders(_status: number, raw: Buffer[]) {
          for (let i = 0; i + 1 < raw.length; i += 2) raw[i]!.toString("latin1").toLowerCase();
          return true;
        },
        onData(chunk: Buffer) {
          bytes += chunk.length;
          return true;
        },
        onComplete: () => onDone(bytes),
        onError(err: Error) {
          throw err;
        },
      },
    );
  };
}

function vm(field: "VmHWM" | "VmRSS"): number {
  const match = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match?.[1] ?? 0) / 1024;
}

const get = impl === "undici" ? undiciClient() : ospClient();

/** `count` GETs of `path`, `CONCURRENCY` at a time; resolves with the body bytes received. */
function batch(path: string, count: number): Promise<number> {
  return new Promise((resolve) => {
    let started = 0;
    let finished = 0;
    let bytes = 0;
    const next = (n: number): void => {
      bytes += n;
      if (++finished === count) resolve(bytes);
      else if (started < count) {
        started++;
        get(path, next);
      }
    };
    for (; started < Math.min(CONCURRENCY, count); started++) get(path, next);
  });
}

// Warm-up (JIT, connections), then the measured batch.
await batch("/small", scenario === "big" ? 16 : 5000);
const rssBefore = vm("VmRSS");
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const bytes = await batch(scenario === "big" ? "/big" : "/small", total);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    impl,
    scenario,
    requests: total,
    seconds,
    cpuUsPerRequest: (cpu.user + cpu.system) / total,
    bytes,
    rssBeforeMiB: rssBefore,
    peakRssMiB: vm("VmHWM"),
  })}\n`,
);
process.exit(0);
