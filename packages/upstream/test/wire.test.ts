import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, test } from "node:test";
import {
  createUpstreamBody,
  UPSTREAM_REQUEST_CHANNEL,
  UpstreamPools,
  type UpstreamRequestEvent,
} from "../src/index.js";
import { send, startServer } from "./helpers.js";

const pools = new UpstreamPools({ connections: 8 });
after(() => pools.close());

test("reuses one keep-alive connection for sequential requests, HEAD included", async (t) => {
  const srv = await startServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-length": 2 });
      res.end(req.method === "HEAD" ? undefined : "ok");
    });
  });
  t.after(() => srv.close());
  for (const method of ["GET", "HEAD", "PUT", "GET", "DELETE", "HEAD", "GET"]) {
    const body = method === "PUT" ? createUpstreamBody(3) : null;
    const { done } = send(pools, {
      origin: srv.origin,
      method,
      path: "/b/k",
      headers: [["host", "h"]],
      body,
    });
    body?.write(Buffer.from("abc"));
    body?.end();
    const outcome = await done;
    assert.equal(outcome.error, null);
    assert.equal(outcome.status, 200);
    // The connection goes back to the pool only once the read that completed the response has been handled; a
    // request sent before then would find it busy and open another. Sequential here means one macrotask
    // apart.
    await new Promise(setImmediate);
  }
  assert.equal(srv.connections(), 1);
});

test("sends raw paths byte for byte, without WHATWG normalisation", async (t) => {
  const seen: string[] = [];
  const srv = await startServer((req, res) => {
    seen.push(req.url ?? "");
    res.end();
  });
  t.after(() => srv.close());
  const paths = [
    "/b/a/../c//d",
    "/b/%2e%2e/%2E%2E/k",
    "/b/./x/.",
    "/b/a%2Fb%5Cc?x-id=GetObject&prefix=%2e%2e%2F&empty=",
    "/b/%E2%82%AC%20key?uploads",
    "/b//",
  ];
  for (const path of paths) {
    const outcome = await send(pools, {
      origin: srv.origin,
      method: "GET",
      path,
      headers: [["host", "h"]],
      body: null,
    }).done;
    assert.equal(outcome.error, null);
  }
  assert.deepEqual(seen, paths);
});

test("sends the caller's headers in order after host, with content-length from the body", async (t) => {
  let raw: string[] = [];
  const srv = await startServer((req, res) => {
    raw = req.rawHeaders;
    req.resume();
    req.on("end", () => res.end());
  });
  t.after(() => srv.close());
  const body = createUpstreamBody(4);
  const { done } = send(pools, {
    origin: srv.origin,
    method: "PUT",
    path: "/b/k",
    headers: [
      ["x-amz-meta-b", "2"],
      ["Host", "bucket.store.example"],
      ["x-amz-meta-a", "1"],
      ["x-amz-meta-b", "3"],
      ["authorization", "Bearer t"],
    ],
    body,
  });
  body.write(Buffer.from("data"));
  body.end();
  assert.equal((await done).error, null);
  const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.deepEqual(names, [
    "host",
    "connection",
    "x-amz-meta-b",
    "x-amz-meta-a",
    "x-amz-meta-b",
    "authorization",
    "content-length",
  ]);
  assert.equal(raw[1], "bucket.store.example");
  assert.equal(raw[raw.length - 1], "4");
});

test("delivers response headers lower-cased, in order, with duplicates kept", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(200, [
      "X-Amz-Meta-B",
      "1",
      "ETag",
      '"e"',
      "x-amz-meta-b",
      "2",
      "Set-Cookie",
      "a=1",
      "set-cookie",
      "b=2",
    ]);
    res.end();
  });
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/",
    headers: [["host", "h"]],
    body: null,
  }).done;
  const mine = outcome.headers.filter(
    ([name]) => name.startsWith("x-") || name === "etag" || name === "set-cookie",
  );
  assert.deepEqual(mine, [
    ["x-amz-meta-b", "1"],
    ["etag", '"e"'],
    ["x-amz-meta-b", "2"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
  ]);
});

test("skips 1xx informational responses and reports the final one", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeEarlyHints({ link: "</style.css>; rel=preload" });
    res.writeHead(200, { "content-length": 2 });
    res.end("ok");
  });
  t.after(() => srv.close());
  const outcome = await send(pools, {
    origin: srv.origin,
    method: "GET",
    path: "/",
    headers: [["host", "h"]],
    body: null,
  }).done;
  assert.equal(outcome.status, 200);
  assert.equal(outcome.body.toString(), "ok");
});

test("answers HEAD with the upstream content-length and no body", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(200, { "content-length": 1234, etag: '"abc"' });
    res.end();
  });
  t.after(() => srv.close());
  let chunks = 0;
  const outcome = await send(
    pools,
    { origin: srv.origin, method: "HEAD", path: "/b/k", headers: [["host", "h"]], body: null },
    {
      onData() {
        chunks += 1;
        return true;
      },
    },
  ).done;
  assert.equal(outcome.error, null);
  assert.equal(outcome.status, 200);
  assert.deepEqual(
    outcome.headers.find(([name]) => name === "content-length"),
    ["content-length", "1234"],
  );
  assert.equal(chunks, 0);
});

test("publishes one timing event per request on the diagnostics channel", async (t) => {
  const srv = await startServer((_req, res) => {
    res.writeHead(201, { "content-length": 5 });
    res.end("hello");
  });
  t.after(() => srv.close());
  const events: UpstreamRequestEvent[] = [];
  const listener = (message: unknown) => events.push(message as UpstreamRequestEvent);
  diagnosticsChannel.subscribe(UPSTREAM_REQUEST_CHANNEL, listener);
  try {
    const body = createUpstreamBody(3);
    const { done } = send(pools, {
      origin: srv.origin,
      method: "PUT",
      path: "/b/k",
      headers: [["host", "h"]],
      body,
    });
    body.write(Buffer.from("abc"));
    body.end();
    await done;
  } finally {
    diagnosticsChannel.unsubscribe(UPSTREAM_REQUEST_CHANNEL, listener);
  }
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.equal(event.origin, srv.origin);
  assert.equal(event.method, "PUT");
  assert.equal(event.status, 201);
  assert.equal(event.outcome, "complete");
  assert.equal(event.bytesSent, 3);
  assert.equal(event.bytesReceived, 5);
  assert.ok(event.headersMs >= 0 && event.durationMs >= event.headersMs);
});
