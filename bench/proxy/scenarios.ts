/**
 * The load scenarios of the suite: what each sends, to which port of each target, and what it
 * measures. The memory scenario (1 GiB through osp, peak RSS) is not a wrk scenario: see memory.ts.
 */
import { coldKey } from "./cold-identity.js";
import { CLIENT } from "./osp-process.js";
import {
  bearerGet,
  chunkedPut,
  type Keys,
  presignedGet,
  type RequestSet,
  signedGet,
  signedGets,
  signedPut,
} from "./requests.js";

export type TargetName = "upstream" | "nginx" | "osp";
export const TARGETS: readonly TargetName[] = ["upstream", "nginx", "osp"];

/** GET objects the origin serves, by name: /bench/<name>.bin. */
export const OBJECTS = { "1k": 1024, "64k": 64 * 1024, "8m": 8 * 2 ** 20 } as const;
export const PUT_BYTES = 2 ** 20;
export const CHUNK_BYTES = 64 * 1024;
/** The object of the IAM scenario, stored in the bearer upstream (bucket `ibm`). */
export const IAM_OBJECT = { path: "/ibm/1k.bin", bytes: 1024 } as const;

export interface ScenarioContext {
  /** Where each target listens (the gateway's port for nginx and osp, the origin's for upstream). */
  readonly ports: Readonly<Record<TargetName, number>>;
  /** The bearer upstream (IAM scenario): its port and a token for requests sent to it directly. */
  readonly bearer: { readonly port: number; readonly token: string } | null;
  /** The body of the PUT scenarios (random bytes). */
  readonly putBody: Buffer;
  /** Cold path: keys cycled during the warm-up, then fresh keys for each round. */
  readonly coldWarmupKeys: number;
  readonly coldKeysPerRound: number;
  /** Where osp finds the cold principals (for the notes). */
  readonly coldSource: "hook" | "config";
  /** The port of the second osp, quiet (level warn, no access log), for the `-nolog` scenarios; else null. */
  readonly quietOspPort: number | null;
}

export interface Scenario {
  readonly name: string;
  /** What it measures, one sentence (README and RESULTS.md). */
  readonly measures: string;
  /** Object bytes moved per request (response body of a GET, decoded body of a PUT): MB/s = req/s × this. */
  readonly payloadBytes: number;
  /** The requests of one wrk run against `target`; `round` -1 is the warm-up. */
  requests(target: TargetName, ctx: ScenarioContext, round: number): RequestSet;
  /** The port `target` is reached at in this scenario. */
  port(target: TargetName, ctx: ScenarioContext): number;
}

const viaGateway = (target: TargetName, ctx: ScenarioContext) => ctx.ports[target];

/** The `-nolog` scenarios send osp's requests to the quiet osp (`logging: {level: warn, accessLog: false}`). */
export const isQuiet = (scenario: Scenario): boolean => scenario.name.endsWith("-nolog");

function viaQuietOsp(target: TargetName, ctx: ScenarioContext): number {
  if (target !== "osp") return ctx.ports[target];
  if (ctx.quietOspPort === null) throw new Error("a -nolog scenario needs the quiet osp");
  return ctx.quietOspPort;
}

function get(name: keyof typeof OBJECTS, measures: string): Scenario {
  const path = `/bench/${name}.bin`;
  return {
    name: `get-${name}`,
    measures,
    payloadBytes: OBJECTS[name],
    port: viaGateway,
    requests: (t, ctx) => signedGet(ctx.ports[t], path, CLIENT),
  };
}

/**
 * The keys of one cold-path run: a slice of its own for every round, so none was used before it. nginx and
 * the upstream ignore the signature: they cycle through fewer keys (the same request shape, less signing).
 */
export function coldKeysOf(ctx: ScenarioContext, target: TargetName, round: number): Keys[] {
  const [from, count] =
    round < 0
      ? [0, ctx.coldWarmupKeys]
      : [ctx.coldWarmupKeys + round * ctx.coldKeysPerRound, ctx.coldKeysPerRound];
  return Array.from({ length: target === "osp" ? count : Math.min(count, 1000) }, (_, i) =>
    coldKey(from + i),
  );
}

export const SCENARIOS: readonly Scenario[] = [
  get("1k", "Per-request cost: SigV4 header check, authorization, upstream re-signing, headers both ways."),
  get("64k", "A mid-size object: body copying starts to weigh against the per-request work."),
  get("8m", "Streaming throughput of a large object (MB/s), backpressure between the two sockets."),
  {
    name: "put-1m",
    measures: "A signed 1 MiB upload whose x-amz-content-sha256 is the real hash, verified while streaming.",
    payloadBytes: PUT_BYTES,
    port: viaGateway,
    requests: (t, ctx) => signedPut(ctx.ports[t], "/bench/put/obj-1m", CLIENT, ctx.putBody),
  },
  {
    name: "presigned-get-1k",
    measures: "A presigned GET (X-Amz-* in the query, no auth header) of 1 KiB.",
    payloadBytes: OBJECTS["1k"],
    port: viaGateway,
    requests: (t, ctx) => presignedGet(ctx.ports[t], "/bench/1k.bin", CLIENT),
  },
  {
    name: "chunked-put-1m",
    measures:
      "An aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, 64 KiB chunks, every chunk signed).",
    payloadBytes: PUT_BYTES,
    port: viaGateway,
    requests: (t, ctx) => chunkedPut(ctx.ports[t], "/bench/put/chunked-1m", CLIENT, ctx.putBody, CHUNK_BYTES),
  },
  {
    name: "cold-get-1k",
    measures:
      "1 KiB GETs, each signed by an access key not used before (until the round's keys run out): " +
      "credential lookup, signing-key derivation and the authorization decision miss their caches.",
    payloadBytes: OBJECTS["1k"],
    port: viaGateway,
    requests: (t, ctx, round) => signedGets(ctx.ports[t], "/bench/1k.bin", coldKeysOf(ctx, t, round)),
  },
  {
    name: "iam-get-1k",
    measures:
      "1 KiB GETs from an IBM-COS-like upstream that checks IAM bearer tokens (testkit, a Node server: " +
      "the bottleneck); upstream = that server alone, nginx passes the client's token through.",
    payloadBytes: IAM_OBJECT.bytes,
    port: (t, ctx) => (t === "upstream" ? (ctx.bearer?.port ?? 0) : ctx.ports[t]),
    requests: (t, ctx, _round) => {
      if (ctx.bearer === null) throw new Error("iam-get-1k needs the bearer upstream");
      return t === "osp"
        ? signedGet(ctx.ports.osp, IAM_OBJECT.path, CLIENT)
        : bearerGet(t === "upstream" ? ctx.bearer.port : ctx.ports.nginx, IAM_OBJECT.path, ctx.bearer.token);
    },
  },
  {
    name: "get-1k-nolog",
    measures:
      "get-1k against an osp without access log at level warn (nginx logs nothing either): the cost of the log line.",
    payloadBytes: OBJECTS["1k"],
    port: viaQuietOsp,
    requests: (t, ctx) => signedGet(viaQuietOsp(t, ctx), "/bench/1k.bin", CLIENT),
  },
];

/** The non-wrk scenario: 1 GiB down and up through osp, peak RSS (memory.ts). */
export const MEMORY_SCENARIO = "memory-1g";
export const SCENARIO_NAMES: readonly string[] = [...SCENARIOS.map((s) => s.name), MEMORY_SCENARIO];
