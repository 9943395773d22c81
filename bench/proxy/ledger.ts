/**
 * The cost ledger: where osp's CPU per request goes, part by part (HTTP front, auth,
 * authorization, re-sign, upstream client, response relay, access log, metrics, GC, kernel…), measured in
 * one extra wrk run of a scenario against osp. `perf record -e cpu-clock -g` samples every thread of osp's
 * tree while it is on a CPU (kernel and user alike, so a system call's cost lands where it is paid); osp
 * then runs with `--perf-basic-prof-only-functions --interpreted-frames-native-stack`, so that perf names
 * JavaScript frames with their file. Each sample goes to the part of the nearest osp frame on its stack
 * (a Node or V8 builtin counts for the osp function that called it); a sample whose leaf is in the kernel
 * goes to `kernel`, and `kernelBy` says which part made the system call. Parts are shares of the samples ×
 * the run's CPU µs per request from /proc (proc-stats.ts). Where perf cannot sample, there is no ledger.
 */
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";

const PERF = process.env.OSP_BENCH_PERF ?? "perf";
/** Samples per second per thread: about 5 000 samples in a 5 s round, with little overhead. */
const FREQUENCY_HZ = 997;

/** Node flags osp runs with when a ledger is taken: JIT and interpreted frames get names perf can read. */
export const LEDGER_NODE_ARGS = ["--perf-basic-prof-only-functions", "--interpreted-frames-native-stack"];

/** The parts, in the order the report lists them. */
export const LEDGER_PARTS = [
  "HTTP front",
  "auth",
  "authorization",
  "re-sign",
  "upstream client",
  "response relay",
  "pipeline",
  "access log",
  "metrics",
  "GC",
  "runtime",
  "other threads",
  "kernel",
] as const;
export type LedgerPart = (typeof LEDGER_PARTS)[number];

/** What each part holds, for the report. */
export const PART_MEANING: Readonly<Record<LedgerPart, string>> = {
  "HTTP front": "packages/http and uWS (request head, response writes)",
  auth: "SigV4/V2 verification: packages/sigv4 and verify, credential lookup",
  authorization: "gateway authorization/, anonymous access, bucket patterns",
  "re-sign": "gateway upstream/sign-upstream.ts, upstream credentials: signing the upstream request",
  "upstream client": "packages/upstream and Node's socket streams",
  "response relay": "gateway pipeline/response-relay.ts, response header filter",
  pipeline: "the rest of gateway pipeline/ and worker/, s3 addressing, config, errors",
  "access log": "packages/log",
  metrics: "packages/metrics",
  GC: "V8's garbage collector on the main thread",
  runtime: "V8, Node and libuv with no osp frame on the stack (event loop, microtasks)",
  "other threads": "threads other than a process's main one (GC helpers, compiler, pools)",
  kernel: "system time: a sample whose leaf is in the kernel (by who called it: kernelBy)",
};

export interface LedgerEntry {
  readonly part: LedgerPart;
  readonly samples: number;
  /** CPU µs per request: the part's share of the samples × the run's CPU µs/req. */
  readonly us: number;
}

export interface Ledger {
  readonly method: "perf record -e cpu-clock -g";
  readonly seconds: number;
  readonly requests: number;
  /** osp's CPU µs per request in this run (/proc, every process of the tree). */
  readonly cpuUsPerRequest: number;
  readonly samples: number;
  readonly parts: readonly LedgerEntry[];
  /** The kernel's µs per request by the part whose system call it served. */
  readonly kernelBy: Readonly<Partial<Record<LedgerPart, number>>>;
  /** The osp functions with most samples (self and the builtins they call), µs per request. */
  readonly topFunctions: ReadonlyArray<{
    readonly name: string;
    readonly part: LedgerPart;
    readonly us: number;
  }>;
}

let usable: boolean | null = null;

/** Whether `perf record` can sample a process of ours (checked once). */
export function ledgerUsable(): boolean {
  if (usable !== null) return usable;
  const r = spawnSync(PERF, ["record", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"], {
    encoding: "utf8",
  });
  usable = r.status === 0;
  return usable;
}

const maps = new Set<string>();

/** Removes the `/tmp/perf-<pid>.map` files osp wrote for the ledger runs (Node leaves them). */
export function removePerfMaps(): void {
  for (const f of maps) rmSync(f, { force: true });
  maps.clear();
}

export interface LedgerRecording {
  /** Stops sampling; the samples, or null when perf failed. */
  finish(): Promise<Sample[] | null>;
}

interface Frame {
  readonly sym: string;
  readonly dso: string;
}
export interface Sample {
  readonly tid: number;
  /** Leaf first. */
  readonly frames: readonly Frame[];
}

/** Starts `perf record` on every thread of `pids`, writing `file`. */
export function recordLedger(pids: readonly number[], file: string): LedgerRecording {
  for (const pid of pids) maps.add(`/tmp/perf-${pid}.map`);
  const perf = spawn(
    PERF,
    ["record", "-e", "cpu-clock", "-F", String(FREQUENCY_HZ), "-g", "-p", pids.join(","), "-o", file],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  perf.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => perf.once("exit", (code) => resolve(code)));
  return {
    async finish() {
      perf.kill("SIGINT");
      const code = await exited;
      if (code !== 0 && code !== null && !err.includes("Captured")) return null;
      const script = spawnSync(PERF, ["script", "-i", file, "-F", "tid,ip,sym,dso"], {
        encoding: "utf8",
        maxBuffer: 1 << 30,
      });
      rmSync(file, { force: true });
      return script.status === 0 ? parseScript(script.stdout) : null;
    },
  };
}

/** `perf script -F tid,ip,sym,dso`: a line with the tid, then one line per frame, leaf first. */
function parseScript(text: string): Sample[] {
  const out: Sample[] = [];
  let tid = -1;
  let frames: Frame[] = [];
  const flush = () => {
    if (tid >= 0) out.push({ tid, frames });
    tid = -1;
    frames = [];
  };
  for (const line of text.split("\n")) {
    if (line === "") {
      flush();
      continue;
    }
    if (!line.startsWith("\t")) {
      flush();
      tid = Number.parseInt(line, 10);
      continue;
    }
    // "\t    7fc2f78f49c7 JS:*run file:///…/exchange.js:108:14 (/tmp/perf-18052.map)"
    const m = /^\s*[0-9a-f]+ (.*) \(([^()]*)\)$/.exec(line);
    if (m !== null) frames.push({ sym: m[1] ?? "", dso: m[2] ?? "" });
  }
  flush();
  return out;
}

const RELAY = /\bforwardResponseHeaders\b/;
const RESIGN_FILE = /\/upstream\/(sign-upstream|upstream-credentials|iam-tokens)\.js/;
/** A SigV4 frame signs the upstream request when it, or a caller, is one of these (inlining hides some). */
const RESIGN_CALLER =
  /\/upstream\/(sign-upstream|upstream-credentials|iam-tokens)\.js|\/sign-request\.js|\bforward file:.*\/exchange\.js/;
const GC =
  /v8::internal::(Heap|Scavenger|ScavengerCollector|MarkCompactCollector|MinorMarkCompactCollector|MinorMarkSweepCollector|IncrementalMarking|ConcurrentMarking|Sweeper|GCTracer|MemoryAllocator)::/;

/** The part of one osp frame (`JS:*name file:///…/packages/<pkg>/dist/src/<file>.js:l:c`), or null. */
function partOfFrame(sym: string, above: readonly Frame[]): LedgerPart | null {
  const m = /\/packages\/([a-z0-9-]+)\/dist\/src\/(.*?)\.js/.exec(sym);
  if (m === null) return null;
  const [, pkg, file = ""] = m;
  switch (pkg) {
    case "http":
      return "HTTP front";
    case "sigv4":
    case "verify":
      return RESIGN_CALLER.test(sym) || above.some((f) => RESIGN_CALLER.test(f.sym)) ? "re-sign" : "auth";
    case "upstream":
      return "upstream client";
    case "log":
      return "access log";
    case "metrics":
      return "metrics";
    case "gateway":
      // Files by folder (packages/gateway/README.md).
      if (/^(authorization\/.*|identity\/anonymous|routing\/bucket-patterns)$/.test(file))
        return "authorization";
      if (RESIGN_FILE.test(`/${file}.js`)) return "re-sign";
      if (/^identity\/(credential-sources|credential-store)$/.test(file)) return "auth";
      if (file === "pipeline/response-relay" || RELAY.test(sym)) return "response relay";
      return "pipeline";
    default:
      return "pipeline";
  }
}

/**
 * The part whose socket a stack is working on, from the native frames between the leaf and the first
 * JavaScript frame: Node's stream wrap (upstream client) or uWS (HTTP front). Those names come from the
 * binaries and are exact; a JIT frame's name comes from a perf map that goes stale when V8 moves or frees
 * code (a put-1m profile showed the upstream body's write under frames named `#parseHead` and
 * `writeAccessLine`).
 */
function socketOwner(frames: readonly Frame[]): LedgerPart | null {
  for (const f of frames) {
    if (f.sym.startsWith("JS:") || GC.test(f.sym)) return null;
    if (/LibuvStreamWrap|^uv__(read|write|stream_io)|^uv_try_write/.test(f.sym)) return "upstream client";
    if (f.dso.includes("uws_") || /^__(libc_)?(recv|send)$/.test(f.sym)) return "HTTP front";
  }
  return null;
}

/**
 * The part a user-space stack belongs to: the socket its native frames work on, else its nearest osp frame,
 * else uWS, Node's streams, or runtime.
 */
function partOfStack(frames: readonly Frame[]): { part: LedgerPart; fn: string | null } {
  const owner = socketOwner(frames);
  if (owner !== null) return { part: owner, fn: null };
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as Frame;
    if (GC.test(f.sym)) return { part: "GC", fn: null };
    const part = partOfFrame(f.sym, frames.slice(i + 1));
    if (part !== null)
      return { part, fn: f.sym.replace(/^JS:\W*/, "").replace(/file:\/\/\/.*\/packages\//, "") };
  }
  // uWS reads and writes its sockets with recv/send (perf loses the caller above libc); libuv uses read/write.
  if (frames.some((f) => f.dso.includes("uws_") || /^__(libc_)?(recv|send)$/.test(f.sym)))
    return { part: "HTTP front", fn: null };
  // Only the upstream client uses Node's sockets (libuv streams); uWS polls its own.
  if (
    frames.some((f) =>
      /node:(net|internal\/stream_base_commons|internal\/streams)|^uv__(read|write|stream_io)/.test(f.sym),
    )
  )
    return { part: "upstream client", fn: null };
  return { part: "runtime", fn: null };
}

/** Sorts the samples of one run into the ledger, scaled to its CPU µs per request. */
export function buildLedger(
  samples: readonly Sample[],
  mainThreads: readonly number[],
  run: { seconds: number; requests: number; cpuUsPerRequest: number },
): Ledger {
  const main = new Set(mainThreads);
  const count = new Map<LedgerPart, number>();
  const kernel = new Map<LedgerPart, number>();
  const fns = new Map<string, { part: LedgerPart; n: number }>();
  for (const s of samples) {
    const inKernel = s.frames[0]?.dso === "[kernel.kallsyms]";
    const { part, fn } = main.has(s.tid)
      ? partOfStack(s.frames)
      : { part: "other threads" as const, fn: null };
    const as: LedgerPart = inKernel ? "kernel" : part;
    count.set(as, (count.get(as) ?? 0) + 1);
    if (inKernel) kernel.set(part, (kernel.get(part) ?? 0) + 1);
    if (fn !== null && !inKernel) {
      const e = fns.get(fn) ?? { part, n: 0 };
      e.n++;
      fns.set(fn, e);
    }
  }
  const total = Math.max(1, samples.length);
  const us = (n: number) => (n / total) * run.cpuUsPerRequest;
  return {
    method: "perf record -e cpu-clock -g",
    ...run,
    samples: samples.length,
    parts: LEDGER_PARTS.map((part) => ({
      part,
      samples: count.get(part) ?? 0,
      us: us(count.get(part) ?? 0),
    })),
    kernelBy: Object.fromEntries([...kernel].sort((a, b) => b[1] - a[1]).map(([p, n]) => [p, us(n)])),
    topFunctions: [...fns]
      .sort((a, b) => b[1].n - a[1].n)
      .slice(0, 20)
      .map(([name, e]) => ({ name, part: e.part, us: us(e.n) })),
  };
}
