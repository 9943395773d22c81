import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, test } from "node:test";
import { S3Error } from "@osp/errors";
import { createUpstreamBody, UpstreamPools } from "../src/index.js";
import { delay, send, startServer, waitFor } from "./helpers.js";

const pools = new UpstreamPools({ connections: 4, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
after(() => pools.close());

const host: [string, string] = ["host", "store.example"];

function causeCode(err: S3Error | null): unknown {
  return (err?.cause as { code?: unknown } | undefined)?.code;
}

/** Resolves with whether the server saw the request end normally, once the request's stream has closed. */
function watchRequest(req: IncomingMessage): Promise<{ complete: boolean; bytes: number }> {
  let bytes = 0;
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  return new Promise((resolve) => req.on("close", () => resolve({ complete: req.complete, bytes })));
}

test("maps a refused connection to ServiceUnavailable from the upstream", async () => {
  const srv = await startServer(() => {});
  const origin = srv.origin;
  await srv.close();
  const outcome = await send(pools, { origin, method: "GET", path: "/b/k", headers: [host], body: null })
    .done;
  assert.ok(outcome.error instanceof S3Error);
  assert.equal(outcome.error.code, "ServiceUnavailable");
  assert.equal(outcome.error.status, 503);
  assert.equal(outcome.error.source, "upstream");
  assert.equal(outcome.error.retryable, true);
  assert.equal(causeCode(outcome.error), "ECONNREFUSED");
  assert.doesNotMatch(outcome.error.message, /127\.0\.0\.1/);
});

test("maps a headers timeout to ServiceUnavailable", async (t) => {
  const srv = await startServer((req) => req.resume());
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/slow",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.error?.code, "ServiceUnavailable");
  assert.equal(causeCode(outcome.error), "OSP_HEADERS_TIMEOUT");
});

test("maps a reset before the response to ServiceUnavailable", async (t) => {
  const srv = await startServer((req) => req.socket.destroy());
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.status, 0);
  assert.equal(outcome.error?.code, "ServiceUnavailable");
  assert.equal(outcome.error?.source, "upstream");
});

test("maps a reset in the middle of the response body to InternalError after the headers", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(200, { "content-length": 1024 * 1024 });
    res.write(Buffer.alloc(64 * 1024), () => setTimeout(() => res.socket?.destroy(), 10));
  });
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.status, 200);
  assert.ok(outcome.body.length > 0 && outcome.body.length < 1024 * 1024);
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.status, 500);
  assert.equal(outcome.error?.source, "upstream");
});

test("maps a reset in the middle of the request body to ServiceUnavailable", async (t) => {
  const srv = await startServer((req) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes >= 256 * 1024) req.socket.destroy();
    });
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(4 * 1024 * 1024);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  const chunk = Buffer.alloc(64 * 1024);
  const produce = () => {
    while (body.bytesWritten < body.contentLength && body.write(chunk)) {}
  };
  body.onDrain(produce);
  produce();
  const outcome = await done;
  assert.equal(outcome.error?.code, "ServiceUnavailable");
  assert.equal(outcome.error?.source, "upstream");
});

test("maps a stalled response body to InternalError", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(200, { "content-length": 100 });
    res.write("partial");
  });
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(causeCode(outcome.error), "OSP_BODY_TIMEOUT");
});

test("destroying the body mid-upload aborts the upstream request and reports the caller's S3Error", async (t) => {
  let seen: Promise<{ complete: boolean; bytes: number }> | null = null;
  const srv = await startServer((req, res) => {
    seen = watchRequest(req);
    req.on("end", () => res.end());
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(1024 * 1024);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  body.write(Buffer.alloc(200 * 1024, 1));
  await waitFor(() => seen !== null);
  await delay(20);
  const reason = new S3Error("SignatureDoesNotMatch");
  body.destroy(reason);
  const outcome = await done;
  assert.equal(outcome.error, reason);
  const server = await seen!;
  assert.equal(server.complete, false, "the server saw an aborted request, not a complete one");
  assert.ok(server.bytes < 1024 * 1024);
});

test("destroying the body with a plain Error reports InternalError from the gateway", async (t) => {
  const srv = await startServer((req) => req.resume());
  t.after(() => srv.close());
  const body = createUpstreamBody(10);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  body.destroy(new Error("client checksum failed"));
  const outcome = await done;
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.source, "internal");
});

test("ending the body short of its content-length fails the call and never completes the upload", async (t) => {
  let seen: Promise<{ complete: boolean; bytes: number }> | null = null;
  const srv = await startServer((req, res) => {
    seen = watchRequest(req);
    req.on("end", () => res.end());
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(100);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  body.write(Buffer.alloc(40));
  await waitFor(() => seen !== null); // headers and the first 40 bytes are on the wire
  body.end();
  const outcome = await done;
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.source, "internal");
  assert.equal(causeCode(outcome.error), "OSP_INVALID_REQUEST");
  assert.equal((await seen!).complete, false);
});

test("abort() mid-response tears the connection down and calls nothing more", async (t) => {
  let responseClosedEarly: Promise<boolean> | null = null;
  const srv = await startServer((_req, res) => {
    res.writeHead(200, { "content-length": 10 * 1024 * 1024 });
    const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 5);
    responseClosedEarly = new Promise((resolve) =>
      res.on("close", () => {
        clearInterval(timer);
        resolve(!res.writableFinished);
      }),
    );
  });
  t.after(() => srv.close());
  const calls: string[] = [];
  const { call } = send(
    pools,
    { origin: srv.origin, method: "GET", path: "/b/k", headers: [host], body: null },
    {
      onData(_chunk, c) {
        calls.push("data");
        c.abort();
        return true;
      },
    },
  );
  await waitFor(() => responseClosedEarly !== null);
  assert.equal(await responseClosedEarly!, true);
  await delay(50);
  assert.deepEqual(calls, ["data"]);
  call.abort(); // idempotent
});

test("abort() before the request is written keeps it off the wire", async (t) => {
  let requests = 0;
  const srv = await startServer((_req, res) => {
    requests += 1;
    res.end();
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(5);
  let settled = false;
  const { call, done } = send(pools, {
    origin: srv.origin,
    method: "PUT",
    path: "/b/k",
    headers: [host],
    body,
  });
  void done.then(() => {
    settled = true;
  });
  call.abort();
  await delay(100);
  assert.equal(requests, 0);
  assert.equal(settled, false);
});

test("reports an invalid request asynchronously as InternalError from the gateway", async () => {
  let returned = false;
  const { done } = send(pools, {
    origin: "http://127.0.0.1:9",
    method: "GET",
    path: "/b/k",
    headers: [host, ["transfer-encoding", "chunked"]],
    body: null,
  });
  returned = true;
  const outcome = await done;
  assert.equal(returned, true);
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.source, "internal");
});

test("refuses new requests after close() with ServiceUnavailable", async () => {
  const closing = new UpstreamPools({ connections: 1 });
  await closing.close();
  const outcome = await send(closing, {
    origin: "http://127.0.0.1:9",
    method: "GET",
    path: "/",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.error?.code, "ServiceUnavailable");
  assert.equal(outcome.error?.source, "internal");
});

test("a handler that throws in onData fails the call with InternalError from the gateway", async (t) => {
  const srv = await startServer((_req, res) => res.end("payload"));
  t.after(() => srv.close());
  const outcome = await send(
    pools,
    { origin: srv.origin, method: "GET", path: "/b/k", headers: [host], body: null },
    {
      onData() {
        throw new Error("handler bug");
      },
    },
  ).done;
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.source, "internal");
});
