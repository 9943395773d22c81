import { readFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
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

/** A file of packages/test/fixtures (the test CA and the `localhost` certificate it signed). */
export const fixtureFile = (name: string): string =>
  fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

export interface RawRequest {
  method: string;
  head: string;
  body: Buffer;
}

/**
 * A raw origin (TLS with test/fixtures' certificate for `localhost`, or TCP on 127.0.0.1) that parses request
 * heads and Content-Length bodies, then calls `onRequest(socket, request, requestIndex, connectionIndex)`: the
 * test writes whatever bytes it likes back.
 */
export async function startRawOrigin(
  secure: boolean,
  onRequest: (socket: Socket, req: RawRequest, requestIndex: number, connectionIndex: number) => void,
): Promise<{
  origin: string;
  connections: () => number;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const connectionIndex = connections++;
    let pending = Buffer.alloc(0);
    let current: { method: string; head: string; length: number } | null = null;
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        if (current === null) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = pending.subarray(0, end).toString("latin1");
          pending = pending.subarray(end + 4);
          const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          current = { method: head.slice(0, head.indexOf(" ")), head, length: match ? Number(match[1]) : 0 };
        }
        if (pending.length < current.length) return;
        const body = pending.subarray(0, current.length);
        pending = pending.subarray(current.length);
        const req = { method: current.method, head: current.head, body };
        current = null;
        onRequest(socket, req, requests++, connectionIndex);
      }
    });
  };
  const server = secure
    ? createTlsServer(
        { key: readFileSync(fixtureFile("server.key")), cert: readFileSync(fixtureFile("server.pem")) },
        onSocket as (s: TLSSocket) => void,
      )
    : createNetServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: secure ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
