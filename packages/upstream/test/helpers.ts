import { createServer, type RequestListener, type Server } from "node:http";
import type { S3Error } from "@osp/errors";
import { closeServer, listenOnLoopback } from "@osp/testkit";
import {
  type ResponseHandler,
  sendUpstream,
  type UpstreamCall,
  type UpstreamPools,
  type UpstreamRequest,
} from "../src/index.js";

export interface TestServer {
  readonly origin: string;
  readonly server: Server;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1:0 that counts its connections. */
export async function startServer(listener: RequestListener): Promise<TestServer> {
  const server = createServer(listener);
  let connections = 0;
  server.on("connection", () => {
    connections += 1;
  });
  const port = await listenOnLoopback(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    connections: () => connections,
    close: () => closeServer(server),
  };
}

export interface Outcome {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  error: S3Error | null;
}

/** Sends `req` and resolves once it completes or fails (never rejects); `onData` may pause by returning false. */
export function send(
  pools: UpstreamPools,
  req: UpstreamRequest,
  hooks: {
    onData?: (chunk: Buffer, call: UpstreamCall) => boolean;
    onHeaders?: (call: UpstreamCall) => void;
  } = {},
): { call: UpstreamCall; done: Promise<Outcome> } {
  const outcome: Outcome = { status: 0, headers: [], body: Buffer.alloc(0), error: null };
  const chunks: Buffer[] = [];
  let call: UpstreamCall | null = null;
  let settle: (o: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const handler: ResponseHandler = {
    onHeaders(status, headers) {
      outcome.status = status;
      outcome.headers = headers;
      hooks.onHeaders?.(call!);
    },
    onData(chunk) {
      chunks.push(Buffer.from(chunk)); // a view of the read buffer: copy to keep
      return hooks.onData === undefined ? true : hooks.onData(chunk, call!);
    },
    onComplete() {
      outcome.body = Buffer.concat(chunks);
      settle(outcome);
    },
    onError(err) {
      outcome.body = Buffer.concat(chunks);
      outcome.error = err;
      settle(outcome);
    },
  };
  call = sendUpstream(pools, req, handler);
  return { call, done };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition()` holds, polling every few ms; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(2);
  }
}
