/**
 * Client traffic for the cluster tests: signed GETs (alice) in parallel lanes, each lane one keep-alive
 * connection (so a connection, and every request on it, belongs to one worker), with every outcome kept.
 * Which worker answered is read from `x-amz-request-id`: the gateway's ids start with a random prefix per
 * process (8 hex digits), and s3rver sends no id of its own, so every answer carries the worker's prefix.
 */
import { Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { signAsAlice } from "../e2e/harness.js";

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface Outcome {
  readonly status: number | null;
  /** The connection error (`ECONNRESET`, `socket hang up`…), `null` when an answer came. */
  readonly error: string | null;
  /** Worker prefix of this answer, or, for a failure, of the last answer on the same connection. */
  readonly worker: string | null;
  readonly path: string;
}

/** The worker prefix of a gateway request id. */
export function workerOf(requestId: string | undefined): string | null {
  return requestId === undefined || requestId.length !== 16 ? null : requestId.slice(0, 8);
}

/**
 * One signed request; `agent: false` opens a fresh connection (the kernel picks the worker for it). An
 * `https:` endpoint is reached with `ca` as the only trusted certificate.
 */
export function signedGet(
  endpoint: string,
  path: string,
  agent: Agent | false,
  socketWorkers?: WeakMap<Socket, string>,
  ca?: string,
): Promise<Outcome> {
  const signed = signAsAlice(endpoint, "GET", path, [], EMPTY_SHA256);
  const target = new URL(endpoint);
  const send = target.protocol === "https:" ? httpsRequest : request;
  return new Promise((resolve) => {
    let socket: Socket | null = null;
    const req = send(
      {
        host: target.hostname,
        port: target.port,
        method: "GET",
        path,
        headers: signed.headers.flat() as unknown as Record<string, string>,
        agent,
        ...(ca === undefined ? {} : { ca }),
      },
      (res) => {
        const worker = workerOf(res.headers["x-amz-request-id"] as string | undefined);
        if (socket !== null && worker !== null) socketWorkers?.set(socket, worker);
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, error: null, worker, path }));
        res.on("error", (err) =>
          resolve({
            status: null,
            error: err.message,
            worker: socket && (socketWorkers?.get(socket) ?? null),
            path,
          }),
        );
      },
    );
    req.on("socket", (s: Socket) => {
      socket = s;
    });
    // A hung cluster fails the test instead of hanging it.
    req.setTimeout(15_000, () =>
      req.destroy(Object.assign(new Error("no answer in 15 s"), { code: "TIMEOUT" })),
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      resolve({
        status: null,
        error: err.code ?? err.message,
        worker: socket === null ? null : (socketWorkers?.get(socket) ?? null),
        path,
      }),
    );
    req.end();
  });
}

export interface Load {
  /** Outcomes so far. */
  readonly outcomes: readonly Outcome[];
  /** Each lane's outcomes so far, in order. */
  readonly lanes: ReadonlyArray<readonly Outcome[]>;
  /** Stops the lanes and resolves with every outcome. */
  stop(): Promise<Outcome[]>;
}

/** `lanes` loops of signed GETs of `paths()` (called per request), until `stop()`. */
export function startLoad(endpoint: string, lanes: number, paths: () => string, ca?: string): Load {
  const outcomes: Outcome[] = [];
  const perLane: Outcome[][] = Array.from({ length: lanes }, () => []);
  const socketWorkers = new WeakMap<Socket, string>();
  let running = true;
  const loops = perLane.map(async (mine) => {
    const options = { keepAlive: true, maxSockets: 1 };
    const agent = ca === undefined ? new Agent(options) : new HttpsAgent({ ...options, ca });
    try {
      while (running) {
        const outcome = await signedGet(endpoint, paths(), agent, socketWorkers, ca);
        outcomes.push(outcome);
        mine.push(outcome);
      }
    } finally {
      agent.destroy();
    }
  });
  return {
    outcomes,
    lanes: perLane,
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}
