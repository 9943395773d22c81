/**
 * What the h1 client does with its connections: stale keep-alive sockets, early answers to uploads, the held-back
 * last byte, chunked and close-delimited responses, and origins that break the framing.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, test } from "node:test";
import { createUpstreamBody, UpstreamPools } from "../src/index.js";
import { delay, send, startRawOrigin, startServer, waitFor } from "./helpers.js";

const pools = new UpstreamPools({ connections: 4, headersTimeoutMs: 2000, bodyTimeoutMs: 2000 });
after(() => pools.close());

const host: [string, string] = ["host", "store.example"];

test("sends a GET again on a fresh connection when the kept-alive one turns out closed", async (t) => {
  // The origin answers the first request with keep-alive, then drops the connection when the second arrives
  // on it: the race of a request sent just as the origin's idle timer closed the socket.
  const origin = await startRawOrigin(false, (socket, _req, _request, connection) => {
    if (connection === 0 && socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  t.after(() => origin.close());
  const get = () =>
    send(pools, { origin: origin.origin, method: "GET", path: "/b/k", headers: [host], body: null }).done;
  assert.equal((await get()).status, 200);
  await delay(5);
  const second = await get();
  assert.equal(second.error, null);
  assert.equal(second.status, 200);
  assert.equal(second.body.toString(), "ok");
  assert.equal(origin.connections(), 2);
});

test("never sends a PUT twice: a reused connection that closes fails it with ServiceUnavailable", async (t) => {
  const origin = await startRawOrigin(false, (socket, _req, _request, connection) => {
    if (connection === 0 && socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  });
  t.after(() => origin.close());
  const first = await send(pools, {
    origin: origin.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  }).done;
  assert.equal(first.status, 200);
  await delay(5);
  const body = createUpstreamBody(0);
  body.end();
  const put = await send(pools, { origin: origin.origin, method: "PUT", path: "/b/k", headers: [host], body })
    .done;
  assert.equal(put.error?.code, "ServiceUnavailable");
  assert.equal(origin.requests(), 2);
});

test("holds an upload's last byte back until end(): a body destroyed after its last write never completes", async (t) => {
  let seen: Promise<{ complete: boolean; bytes: number }> | null = null;
  const srv = await startServer((req: IncomingMessage) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    seen = new Promise((resolve) => req.on("close", () => resolve({ complete: req.complete, bytes })));
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(100_000);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  body.write(Buffer.alloc(100_000, 1));
  await waitFor(() => seen !== null);
  await delay(50);
  body.destroy(new Error("verdict: bad signature"));
  const outcome = await done;
  assert.equal(outcome.error?.code, "InternalError");
  const server = await seen!;
  assert.equal(server.complete, false);
  assert.equal(server.bytes, 99_999);
});

test("answers an upload the origin refuses early without waiting for the rest of the body", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(403, { "content-length": "6", connection: "close" });
    res.end("denied");
  });
  t.after(() => srv.close());
  const size = 8 * 1024 * 1024;
  const body = createUpstreamBody(size);
  const { done } = send(pools, { origin: srv.origin, method: "PUT", path: "/b/k", headers: [host], body });
  let written = 0;
  await new Promise<void>((resolve) => {
    const produce = () => {
      while (written < size) {
        written += 64 * 1024;
        if (!body.write(Buffer.alloc(64 * 1024))) return;
      }
      body.end();
      resolve();
    };
    body.onDrain(produce);
    produce();
  });
  const outcome = await done;
  assert.equal(outcome.status, 403);
  assert.equal(outcome.body.toString(), "denied");
  assert.equal(written, size);
});

test("decodes a chunked response and reads a close-delimited one to its end", async (t) => {
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const origin = await startRawOrigin(false, (socket, _req, request) => {
    if (request === 0) {
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
      for (let at = 0; at < payload.length; at += 70_001) {
        const part = payload.subarray(at, at + 70_001);
        socket.write(`${part.length.toString(16)};ext=1\r\n`);
        socket.write(part);
        socket.write("\r\n");
      }
      socket.end("0\r\nx-trailer: t\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 OK\r\n\r\n");
    socket.end(payload);
  });
  t.after(() => origin.close());
  for (let i = 0; i < 2; i++) {
    const outcome = await send(pools, {
      origin: origin.origin,
      method: "GET",
      path: "/b/k",
      headers: [host],
      body: null,
    }).done;
    assert.equal(outcome.error, null);
    assert.ok(outcome.body.equals(payload), `response ${i} differs`);
  }
});

test("refuses a response that carries both Content-Length and chunked framing", async (t) => {
  const origin = await startRawOrigin(false, (socket) => {
    socket.end("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n");
  });
  t.after(() => origin.close());
  const outcome = await send(pools, {
    origin: origin.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  }).done;
  assert.equal(outcome.error?.code, "InternalError");
  assert.equal(outcome.error?.source, "upstream");
});

test("does not reuse a connection whose origin sent bytes beyond the response", async (t) => {
  const origin = await startRawOrigin(false, (socket) => {
    socket.write(
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nforge",
    );
  });
  t.after(() => origin.close());
  for (let i = 0; i < 2; i++) {
    const outcome = await send(pools, {
      origin: origin.origin,
      method: "GET",
      path: `/b/${i}`,
      headers: [host],
      body: null,
    }).done;
    assert.equal(outcome.body.toString(), "ok");
    await delay(5);
  }
  assert.equal(origin.connections(), 2);
});

test("refuses header values with CR or LF before anything is written", async (t) => {
  const origin = await startRawOrigin(false, () => {});
  t.after(() => origin.close());
  for (const value of ["a\r\nx-injected: 1", "a\nb", "a\0b"]) {
    const outcome = await send(pools, {
      origin: origin.origin,
      method: "GET",
      path: "/b/k",
      headers: [host, ["x-amz-meta-a", value]],
      body: null,
    }).done;
    assert.equal(outcome.error?.code, "InternalError");
    assert.equal(outcome.error?.source, "internal");
  }
  assert.equal(origin.requests(), 0);
});

test("queues requests beyond the connection limit and serves them all on that many sockets", async (t) => {
  const limited = new UpstreamPools({ connections: 2 });
  t.after(() => limited.close());
  const srv = await startServer((_req, res) => {
    setTimeout(() => res.end("x"), 5);
  });
  t.after(() => srv.close());
  const outcomes = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) =>
        send(limited, { origin: srv.origin, method: "GET", path: `/b/${i}`, headers: [host], body: null })
          .done,
    ),
  );
  for (const outcome of outcomes) assert.equal(outcome.status, 200);
  assert.equal(srv.connections(), 2);
});

test("closes a connection that stayed idle past the keep-alive timeout", async (t) => {
  const short = new UpstreamPools({ keepAliveTimeoutMs: 100 });
  t.after(() => short.close());
  let closed = 0;
  const srv = await startServer((_req, res) => res.end("x"));
  srv.server.on("connection", (socket) => socket.on("close", () => closed++));
  t.after(() => srv.close());
  const get = () =>
    send(short, { origin: srv.origin, method: "GET", path: "/b/k", headers: [host], body: null }).done;
  assert.equal((await get()).status, 200);
  await waitFor(() => closed === 1, 2000);
  assert.equal((await get()).status, 200);
  assert.equal(srv.connections(), 2);
});

test("destroy() fails requests in flight and queued with ServiceUnavailable from the gateway", async (t) => {
  const doomed = new UpstreamPools({ connections: 1 });
  const srv = await startServer(() => {}); // never answers
  t.after(() => srv.close());
  const req = { origin: srv.origin, method: "GET", path: "/b/k", headers: [host], body: null };
  const inFlight = send(doomed, req).done;
  const queued = send(doomed, req).done;
  await waitFor(() => srv.connections() === 1);
  await doomed.destroy();
  for (const outcome of [await inFlight, await queued]) {
    assert.equal(outcome.error?.code, "ServiceUnavailable");
    assert.equal(outcome.error?.source, "internal");
  }
});
