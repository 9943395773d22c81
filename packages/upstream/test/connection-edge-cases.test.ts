/**
 * The h1 client's edge cases: pausing on TLS (a decrypted batch keeps arriving after reads stop), responses that
 * complete while paused, close()/destroy() racing a retry, header injection above U+00FF, an origin that stops
 * reading a request body, errors after the headers, idle connections past their keep-alive deadline, and a TLS
 * origin that ends the connection (close_notify) right behind a response a paused caller has not read yet.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { errorMessage } from "@osp/errors";
import { closeServer, listenOnLoopback } from "@osp/testkit";
import { createUpstreamBody, mapUpstreamError, UpstreamPools } from "../src/index.js";
import { delay, fixtureFile as fixture, send, startRawOrigin, startServer, waitFor } from "./helpers.js";

const host: [string, string] = ["host", "store.example"];

/** Resolves true if `p` settles within `ms`. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), delay(ms).then(() => false)]);
}

test("TLS: a paused response gets no more data and its views stay intact until resume()", async (t) => {
  const size = 8 * 1024 * 1024;
  const payload = randomBytes(size);
  const server = createHttpsServer(
    { key: readFileSync(fixture("server.key")), cert: readFileSync(fixture("server.pem")) },
    (_req, res) => {
      res.writeHead(200, { "content-length": size });
      res.end(payload);
    },
  );
  const origin = `https://localhost:${await listenOnLoopback(server)}`;
  t.after(() => closeServer(server));
  const pools = new UpstreamPools({}, new Map([[origin, { caFile: fixture("ca.pem") }]]));
  t.after(() => pools.close());

  let paused = false;
  let dataWhilePaused = 0;
  let corrupted = 0;
  const { done } = send(
    pools,
    { origin, method: "GET", path: "/b/k", headers: [["host", "localhost"]], body: null },
    {
      onData(chunk, call) {
        if (paused) dataWhilePaused += 1;
        paused = true;
        // The contract: `chunk` stays valid until resume(). Check it is still what was delivered then.
        const copy = Buffer.from(chunk);
        setImmediate(() => {
          if (!chunk.equals(copy)) corrupted += 1;
          paused = false;
          call.resume();
        });
        return false;
      },
    },
  );
  const outcome = await done;
  assert.equal(outcome.error, null);
  assert.ok(outcome.body.equals(payload));
  t.diagnostic(
    `chunks delivered while paused: ${dataWhilePaused}; views overwritten before resume(): ${corrupted}`,
  );
  assert.equal(corrupted, 0, "views of a paused response were overwritten before resume()");
  assert.equal(dataWhilePaused, 0, "onData ran while the response was paused");
});

test("plain TCP: a response completed while paused keeps its views when the connection serves the next request", async (t) => {
  const first = Buffer.alloc(1000, "a");
  const second = Buffer.alloc(1000, "b");
  const origin = await startRawOrigin(false, (socket, _req, request) => {
    const body = request === 0 ? first : second;
    socket.write(
      Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body]),
    );
  });
  t.after(() => origin.close());
  const pools = new UpstreamPools({ connections: 1 });
  t.after(() => pools.close());
  let held: Buffer | null = null;
  const a = send(
    pools,
    { origin: origin.origin, method: "GET", path: "/a", headers: [host], body: null },
    {
      onData(chunk) {
        held = chunk; // kept past onData: allowed, since onData returned false and resume() never came
        return false;
      },
    },
  );
  const b = send(pools, { origin: origin.origin, method: "GET", path: "/b", headers: [host], body: null });
  assert.equal((await a.done).error, null);
  const outcomeB = await b.done;
  assert.ok(outcomeB.body.equals(second));
  assert.equal(origin.connections(), 1, "the second request reused the connection");
  assert.ok(held !== null && (held as Buffer).equals(first), "the first response's view was overwritten");
});

test("pools.close() resolves even when pools.destroy() is called while it waits", async (t) => {
  const srv = await startServer(() => {}); // never answers
  t.after(() => srv.close());
  const pools = new UpstreamPools({ connections: 1 });
  const inFlight = send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/b/k",
    headers: [host],
    body: null,
  });
  await waitFor(() => srv.connections() === 1);
  const closed = pools.close();
  await delay(20);
  const destroyed = pools.destroy();
  assert.equal((await inFlight.done).error?.code, "ServiceUnavailable");
  assert.equal(await settlesWithin(destroyed, 1000), true, "destroy() resolved");
  assert.equal(await settlesWithin(closed, 1000), true, "close() never resolved");
});

test("close() resolves only after a GET retried on a fresh connection has finished", async (t) => {
  // Request 0 is answered with keep-alive; request 1 arrives on the same socket, which the origin then drops
  // (its idle close racing ours): the GET goes out again on a new connection, answered after 200 ms.
  const origin = await startRawOrigin(false, (socket, _req, _request, connection) => {
    if (connection === 0 && socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    if (connection === 0) {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      return;
    }
    setTimeout(() => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"), 200);
  });
  t.after(() => origin.close());
  const pools = new UpstreamPools({ connections: 4 });
  const get = () =>
    send(pools, { origin: origin.origin, method: "GET", path: "/b/k", headers: [host], body: null });
  assert.equal((await get().done).status, 200);
  await delay(5);
  let settled = false;
  const second = get();
  void second.done.then(() => {
    settled = true;
  });
  await pools.close();
  const settledAtClose = settled;
  const outcome = await second.done;
  assert.equal(outcome.status, 200, "the retry was answered");
  assert.equal(origin.connections(), 2);
  assert.equal(settledAtClose, true, "close() resolved while the retried request was still in flight");
});

test("refuses header values and paths with characters above U+00FF (latin1 would truncate them to CR/LF)", async (t) => {
  const origin = await startRawOrigin(false, () => {});
  t.after(() => origin.close());
  const pools = new UpstreamPools();
  t.after(() => pools.close());
  const cases: Array<{ path: string; headers: Array<[string, string]> }> = [
    { path: "/b/k", headers: [host, ["x-amz-meta-a", "a\u010d\u010ax-injected: 1"]] },
    { path: "/b/k\u010d\u010aGET /evil", headers: [host] },
    { path: "/b/k", headers: [["host", "h\u010d\u010ax: 1"]] },
  ];
  for (const c of cases) {
    const outcome = await send(pools, { origin: origin.origin, method: "GET", body: null, ...c }).done;
    assert.equal(outcome.error?.code, "InternalError");
    assert.equal(outcome.error?.source, "internal");
  }
  assert.equal(origin.requests(), 0);
});

test("an origin that stops reading the request body fails the call instead of leaving it stuck", async (t) => {
  // The origin accepts the connection and never reads: the body's socket fills and drain never comes. No
  // deadline is armed while a body is being sent (headers: from the body's end; body: from the head).
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.pause();
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const pools = new UpstreamPools({ headersTimeoutMs: 300, bodyTimeoutMs: 300, connectTimeoutMs: 300 });
  t.after(() => pools.destroy());
  const size = 256 * 1024 * 1024;
  const body = createUpstreamBody(size);
  const { done } = send(pools, {
    origin: `http://127.0.0.1:${port}`,
    method: "PUT",
    path: "/b/k",
    headers: [host],
    body,
  });
  const chunk = Buffer.alloc(64 * 1024);
  let stalled = false;
  const produce = () => {
    while (body.bytesWritten < size) {
      if (!body.write(chunk)) {
        stalled = true;
        return;
      }
    }
    body.end();
  };
  body.onDrain(produce);
  produce();
  await waitFor(() => stalled);
  const settled = await settlesWithin(done, 3000);
  assert.equal(settled, true, "the call neither completed nor failed 3 s after the origin stopped reading");
  assert.equal((await done).error?.code, "ServiceUnavailable");
});

test("a connection lost mid-body through a TLS alert or a TCP timeout maps like a reset: InternalError after the headers", () => {
  for (const code of [
    "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
    "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC",
    "ETIMEDOUT",
  ]) {
    const lost = Object.assign(new Error("lost"), { code });
    assert.equal(mapUpstreamError(lost, false).code, "ServiceUnavailable", `${code} before the headers`);
    assert.equal(mapUpstreamError(lost, true).code, "InternalError", `${code} after the headers`);
  }
});

test("an idle connection past its keep-alive deadline is not handed to a request before the sweeper closes it", async (t) => {
  // All timeouts at 60 s: the sweeper runs once a second. The origin's hint (timeout=2) gives an idle deadline
  // of 1 s; at 1.5 s the connection is past it, and would be reused until the next sweep (~2 s, when the origin
  // itself closes it): a PUT sent then is lost (no retry) as ServiceUnavailable.
  const origin = await startRawOrigin(false, (socket) => {
    socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=2\r\n\r\nok");
  });
  t.after(() => origin.close());
  const pools = new UpstreamPools({
    connectTimeoutMs: 60_000,
    headersTimeoutMs: 60_000,
    bodyTimeoutMs: 60_000,
    keepAliveTimeoutMs: 60_000,
  });
  t.after(() => pools.destroy());
  const get = () =>
    send(pools, { origin: origin.origin, method: "GET", path: "/b/k", headers: [host], body: null }).done;
  assert.equal((await get()).status, 200);
  await delay(1500);
  assert.equal((await get()).status, 200);
  assert.equal(origin.connections(), 2, "the expired idle connection was reused");
});

test("TLS: a connection whose response completed after the caller paused still reads the next response", async (t) => {
  // 48 KiB in one write: several TLS records, decrypted in one batch. The caller pauses on the first chunk; the
  // rest of the response (and its end) arrives in the same batch, so the call completes while the socket's
  // reading is stopped. The next request reuses the connection.
  const payload = randomBytes(48 * 1024);
  const server = createHttpsServer(
    { key: readFileSync(fixture("server.key")), cert: readFileSync(fixture("server.pem")) },
    (_req, res) => {
      res.writeHead(200, { "content-length": payload.length });
      res.end(payload);
    },
  );
  let connections = 0;
  server.on("secureConnection", () => {
    connections += 1;
  });
  const origin = `https://localhost:${await listenOnLoopback(server)}`;
  t.after(() => closeServer(server));
  const pools = new UpstreamPools(
    { connections: 1, headersTimeoutMs: 1000 },
    new Map([[origin, { caFile: fixture("ca.pem") }]]),
  );
  t.after(() => pools.destroy());
  const req = {
    origin,
    method: "GET",
    path: "/b/k",
    headers: [["host", "localhost"]] as [string, string][],
    body: null,
  };
  let first = true;
  const a = await send(pools, req, {
    onData(_chunk, call) {
      if (!first) return true;
      first = false;
      setImmediate(() => call.resume());
      return false;
    },
  }).done;
  assert.equal(a.error, null);
  await new Promise(setImmediate);
  const b = await send(pools, req).done;
  assert.equal(connections, 1, "the second request reused the connection");
  assert.equal(
    b.error,
    null,
    `second request on the reused connection: ${b.error?.code} ${errorMessage(b.error?.cause)}`,
  );
  assert.ok(b.body.equals(payload));
});

function tlsPools(origin: string, options: Record<string, unknown> = {}): UpstreamPools {
  return new UpstreamPools(
    { headersTimeoutMs: 2000, bodyTimeoutMs: 2000, connectTimeoutMs: 2000, ...options },
    new Map([[origin, { caFile: fixture("ca.pem") }]]),
  );
}

const localhost: [string, string] = ["host", "localhost"];

function response(body: Buffer, extra = ""): Buffer {
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n`),
    body,
  ]);
}

test("TLS: a paused response that the origin ends with close_notify right after it still completes on resume()", async (t) => {
  // 40 KiB + close_notify written at once: one TCP read, one decrypted batch. The caller pauses on the first
  // 16 KiB; the rest of the body goes to the backlog and 'end' is deferred (#endPending). But the socket itself
  // (allowHalfOpen false, autoDestroy) ends its side and emits 'close' a few ticks later: #destroy() fails the
  // paused call and throws away a backlog that holds the complete response.
  const payload = randomBytes(40 * 1024);
  const origin = await startRawOrigin(true, (socket) => {
    socket.end(response(payload, "connection: close\r\n"));
  });
  t.after(() => origin.close());
  const pools = tlsPools(origin.origin);
  t.after(() => pools.destroy());
  let first = true;
  const outcome = await send(
    pools,
    { origin: origin.origin, method: "GET", path: "/b/k", headers: [localhost], body: null },
    {
      onData(_chunk, call) {
        if (!first) return true;
        first = false;
        setTimeout(() => call.resume(), 50);
        return false;
      },
    },
  ).done;
  assert.equal(
    outcome.error,
    null,
    `paused response lost: ${outcome.error?.code} ${errorMessage(outcome.error?.cause)}`,
  );
  assert.ok(outcome.body.equals(payload));
});

test("TLS: a connection whose 'end' is pending is not handed to the next queued request when the backlog completes a response", async (t) => {
  // Keep-alive response (no `connection: close`) followed at once by close_notify. The caller pauses on the
  // first chunk and resumes in setImmediate (before the socket's 'close'): resume() parses the backlog, the
  // response completes, released() starts the queued PUT on this connection, and only then is the pending
  // 'end' handled: the PUT fails (a body is never retried) though the connection was known to be finished.
  const payload = randomBytes(40 * 1024);
  const origin = await startRawOrigin(true, (socket, req, _i, connection) => {
    if (connection === 0) {
      socket.end(response(payload));
      return;
    }
    socket.write(response(Buffer.from(`got ${req.method} ${req.body.length}`)));
  });
  t.after(() => origin.close());
  const pools = tlsPools(origin.origin, { connections: 1 });
  t.after(() => pools.destroy());
  let first = true;
  const get = send(
    pools,
    { origin: origin.origin, method: "GET", path: "/b/k", headers: [localhost], body: null },
    {
      onData(_chunk, call) {
        if (!first) return true;
        first = false;
        setImmediate(() => call.resume());
        return false;
      },
    },
  );
  const body = createUpstreamBody(5);
  const put = send(pools, {
    origin: origin.origin,
    method: "PUT",
    path: "/b/k2",
    headers: [localhost],
    body,
  });
  body.write(Buffer.from("hello"));
  body.end();
  const getOutcome = await get.done;
  assert.equal(getOutcome.error, null, `GET: ${getOutcome.error?.code}`);
  assert.ok(getOutcome.body.equals(payload));
  const putOutcome = await put.done;
  assert.equal(
    putOutcome.error,
    null,
    `queued PUT: ${putOutcome.error?.code} ${errorMessage(putOutcome.error?.cause)}`,
  );
  assert.equal(putOutcome.body.toString(), "got PUT 5");
});

test("TLS: resume() called from onData while resume() is parsing the backlog does not reorder the body", async (t) => {
  // A chunked body of 512-byte chunks (~41 KiB): several chunks per 16 KiB TLS record. The caller pauses on the
  // first chunk (the rest of the batch goes to the backlog). After resume(), it pauses again on the next chunk and,
  // on the chunk after it (still in the same backlog copy: the parser goes on delivering the read's bytes), it
  // resumes at once. That inner resume() runs the backlog loop again while the outer #ingest is still inside
  // parser.execute(): the next backlog copy is parsed before the rest of the current one.
  const payload = randomBytes(40 * 1024);
  const parts: Buffer[] = [Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")];
  for (let at = 0; at < payload.length; at += 512) {
    const piece = payload.subarray(at, at + 512);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  const origin = await startRawOrigin(true, (socket) => {
    socket.write(Buffer.concat(parts));
  });
  t.after(() => origin.close());
  const pools = tlsPools(origin.origin);
  t.after(() => pools.destroy());
  let n = 0;
  let resumed = false;
  let step = 0;
  const outcome = await send(
    pools,
    { origin: origin.origin, method: "GET", path: "/b/k", headers: [localhost], body: null },
    {
      onData(_chunk, call) {
        n++;
        if (n === 1) {
          setImmediate(() => {
            resumed = true;
            call.resume();
          });
          return false;
        }
        if (!resumed) return true; // the rest of the first read, delivered after the pause
        if (step === 0) {
          step = 1;
          return false; // pause again, inside resume()'s backlog loop
        }
        if (step === 1) {
          step = 2;
          call.resume(); // room again at once: resume from inside onData
        }
        return true;
      },
    },
  ).done;
  assert.equal(step, 2, "the scenario ran");
  assert.equal(outcome.error, null, `${outcome.error?.code} ${errorMessage(outcome.error?.cause)}`);
  assert.ok(outcome.body.equals(payload), "body bytes reordered");
});
