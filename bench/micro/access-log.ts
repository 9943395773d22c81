/**
 * Micro-benchmarks of the per-request bookkeeping, called by `run.ts`: the access log line and
 * the metrics updates, in CPU µs per request (user + system of every thread of the process, so a log write
 * handed to the thread pool counts too). Lines go to a file on tmpfs through the logger osp's processes
 * use; requests are completed in bursts of 8 per event-loop turn, as a busy worker completes them.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLineWriter, createLogger, writeAccessLine } from "@osp/log";
import { CHANNELS, createWorkerMetrics } from "@osp/metrics";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const ROUNDS = 7;
const REQUESTS_PER_ROUND = 40_000;
const BURST = 8;
const SCRAPES = 200;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Median CPU µs per request of `op` (called `BURST` times per loop turn), `settle` awaited in the timing. */
async function measureCpu(op: (i: number) => void, settle: () => Promise<void>): Promise<number> {
  const perOp: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < REQUESTS_PER_ROUND; i += BURST) {
      for (let j = 0; j < BURST; j++) op(i + j);
      await turn();
    }
    await settle();
    const used = process.cpuUsage(start);
    if (round >= 0) perOp.push((used.user + used.system) / REQUESTS_PER_ROUND);
  }
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(perOp.length / 2)]!;
}

/** The same loop doing nothing but the turns: subtracted, so the rows are the work alone. */
async function loopCost(): Promise<number> {
  return measureCpu(
    () => {},
    async () => {},
  );
}

function accessFields(i: number) {
  return {
    requestId: `0f3a9c2e-${i}`,
    method: "GET",
    operation: "GetObject",
    bucket: "bench",
    principal: "bench",
    status: 200,
    error: null,
    bytesIn: 0,
    bytesOut: 1024,
    durationMs: 0.412,
    upstreamMs: 0.215,
    remote: "127.0.0.1",
  };
}

async function benchLog(): Promise<Row[]> {
  const dir = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const file = join(dir, `osp-bench-log-${process.pid}`);
  const fd = openSync(file, "w");
  try {
    const log = createLogger({ level: "info", name: "osp", base: { slot: 0 } }, createLineWriter(fd));
    const flush = () => new Promise<void>((resolve) => log.flush(() => resolve()));
    const loop = await loopCost();
    const access = await measureCpu((i) => writeAccessLine(log, accessFields(i)), flush);
    const other = await measureCpu(
      (i) => log.info({ origin: "http://127.0.0.1:9000", status: 200, attempt: i }, "upstream request"),
      flush,
    );
    return [
      { name: "access log line (CPU)", unit: "µs", value: access - loop },
      { name: "other log line, redacted (CPU)", unit: "µs", value: other - loop },
    ];
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

async function benchMetrics(): Promise<Row[]> {
  const metrics = createWorkerMetrics({ bucketLabels: ["bench"], redis: false, inFlight: () => 0 });
  const gateway = diagnosticsChannel.channel(CHANNELS.gatewayRequest);
  const upstream = diagnosticsChannel.channel(CHANNELS.upstreamRequest);
  const origin = "http://127.0.0.1:9000";
  try {
    const loop = await loopCost();
    const perRequest = await measureCpu(
      (i) => {
        // What one proxied GET publishes: the upstream request, then the gateway request.
        upstream.publish({
          origin,
          method: "GET",
          status: 200,
          headersMs: 0.2 + (i % 7) * 0.01,
          durationMs: 0.25,
          bytesSent: 0,
          bytesReceived: 1024,
          outcome: "complete",
          errorCode: null,
          timeout: null,
        });
        gateway.publish({
          operation: "GetObject",
          method: "GET",
          status: 200,
          bucket: "bench",
          errorCode: null,
          refusedBy: null,
          bytesIn: 0,
          bytesOut: 1024,
          durationSeconds: 0.0004 + (i % 5) * 0.0001,
          upstreamSeconds: 0.0002,
        });
      },
      async () => {},
    );
    const start = process.cpuUsage();
    for (let i = 0; i < SCRAPES; i++) await metrics.snapshot();
    const used = process.cpuUsage(start);
    return [
      { name: "metrics per request (CPU)", unit: "µs", value: perRequest - loop },
      { name: "metrics snapshot (CPU, per scrape)", unit: "µs", value: (used.user + used.system) / SCRAPES },
    ];
  } finally {
    metrics.close();
  }
}

export async function benchBookkeeping(): Promise<Row[]> {
  return [...(await benchLog()), ...(await benchMetrics())];
}
