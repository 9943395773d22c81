/**
 * Oversized and malformed requests: which ones uWS closes without an answer, and which ones this package
 * answers itself before a handler sees them (README "Limits and malformed requests").
 */
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { test } from "node:test";
import { delay, RawConnection, requestHead, startTestServer } from "./raw-connection.js";

async function countingServer(options: { maxHeaderBytes?: number } = {}) {
  const calls = { count: 0 };
  const server = await startTestServer((_req, body, res) => {
    calls.count++;
    res.onAborted(() => {});
    body.onData((_chunk, isLast) => {
      if (isLast) res.end("ok");
    });
  }, options);
  return { server, calls };
}

test("answers 431 and closes when the head is over maxHeaderBytes", async (t) => {
  const events: unknown[] = [];
  const listener = (event: unknown) => events.push(event);
  subscribe("osp:http:rejected", listener);
  t.after(() => unsubscribe("osp:http:rejected", listener));
  const { server, calls } = await countingServer({ maxHeaderBytes: 2048 });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k", [`x-amz-meta-big: ${"a".repeat(2100)}`]));
  const res = await conn.readResponse();
  assert.equal(res.status, 431);
  assert.equal(res.headers.find(([k]) => k === "connection")?.[1], "close");
  const { error } = await conn.readUntilClose();
  assert.equal(error, null);
  assert.equal(calls.count, 0);
  assert.deepEqual(events, [
    { status: 431, reason: "header-too-large", method: "GET", remoteAddress: "127.0.0.1" },
  ]);
});

test("uWS closes without an answer a head over 4 KiB that arrives in more than one read", async (t) => {
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(`GET /b/k HTTP/1.1\r\nHost: h\r\nx-a: ${"a".repeat(2500)}`);
  await delay(30);
  conn.write(`\r\nx-b: ${"b".repeat(2500)}\r\n\r\n`);
  const { data } = await conn.readUntilClose();
  assert.equal(data.length, 0);
  assert.equal(calls.count, 0);
});

test("accepts a 4 KiB head split over two reads", async (t) => {
  const { server } = await countingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(`GET /b/k HTTP/1.1\r\nHost: h\r\nx-a: ${"a".repeat(1900)}`);
  await delay(30);
  conn.write(`\r\nx-b: ${"b".repeat(1900)}\r\n\r\n`);
  assert.equal((await conn.readResponse()).status, 200);
});

test("uWS never answers a request with more than 48 header fields", async (t) => {
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  const many = (n: number) => Array.from({ length: n }, (_, i) => `x-amz-meta-${i}: v`);
  const ok = await RawConnection.open(server.port);
  t.after(() => ok.close());
  ok.write(requestHead("GET", "/b/k", many(47))); // 48 with Host
  assert.equal((await ok.readResponse()).status, 200);
  const tooMany = await RawConnection.open(server.port);
  t.after(() => tooMany.close());
  tooMany.write(requestHead("GET", "/b/k", many(48)));
  await delay(200);
  // uWS keeps waiting for a head it can parse; its idle timeout closes the connection after ~10 s.
  assert.deepEqual(tooMany.snapshot(), { bytes: 0, ended: false });
  assert.equal(calls.count, 1);
});

test("uWS never answers malformed heads, HTTP/1.0, a missing Host or an absolute target", async (t) => {
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  const malformed = [
    "GARBAGE\r\n\r\n",
    "GET /b/k HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n",
    "GET /b/k HTTP/1.1\nHost: h\n\n",
    "GET /b k HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /b/k HTTP/1.0\r\nHost: h\r\n\r\n",
    "GET /b/k HTTP/1.1\r\n\r\n",
    "GET http://h/b/k HTTP/1.1\r\nHost: h\r\n\r\n",
  ];
  const conns = await Promise.all(malformed.map(() => RawConnection.open(server.port)));
  t.after(() => {
    for (const conn of conns) conn.close();
  });
  for (const [i, raw] of malformed.entries()) conns[i]!.write(raw);
  await delay(200);
  for (const [i, conn] of conns.entries()) {
    assert.deepEqual(conn.snapshot(), { bytes: 0, ended: false }, JSON.stringify(malformed[i]));
  }
  assert.equal(calls.count, 0);
});

test("uWS closes at once, without an answer, a lower-case method and Content-Length with chunking", async (t) => {
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  for (const raw of [
    "get /b/k HTTP/1.1\r\nHost: h\r\n\r\n",
    "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  ]) {
    const conn = await RawConnection.open(server.port);
    t.after(() => conn.close());
    conn.write(raw);
    assert.equal((await conn.readUntilClose()).data.length, 0, JSON.stringify(raw));
  }
  assert.equal(calls.count, 0);
});

test("never hands the handler a request whose Content-Length is not a plain number", async (t) => {
  // uWS calls the route handler for these and only then fails the parse and closes the connection, dropping
  // whatever was answered: the package refuses them first, so no handler starts work on one.
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  for (const length of ["abc", "3x", "-1", "3, 3"]) {
    const conn = await RawConnection.open(server.port);
    conn.write(requestHead("PUT", "/b/k", [`Content-Length: ${length}`]));
    assert.equal((await conn.readUntilClose()).data.length, 0, length);
    conn.close();
  }
  assert.equal(calls.count, 0);
});

test("answers 400 for disagreeing Content-Lengths and 501 for a transfer coding other than chunked", async (t) => {
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  const cases: Array<[string[], number]> = [
    [["Content-Length: 3", "Content-Length: 4"], 400],
    [["Transfer-Encoding: gzip"], 501],
    [["Transfer-Encoding: gzip, chunked"], 501],
    [["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], 501],
  ];
  for (const [headers, status] of cases) {
    const conn = await RawConnection.open(server.port);
    conn.write(requestHead("PUT", "/b/k", headers));
    assert.equal((await conn.readResponse()).status, status, headers.join(", "));
    await conn.readUntilClose();
    conn.close();
  }
  const same = await RawConnection.open(server.port);
  t.after(() => same.close());
  same.write(`${requestHead("PUT", "/b/k", ["Content-Length: 3", "Content-Length: 3"])}abc`);
  assert.equal((await same.readResponse()).status, 200, "two equal lengths are one length");
  assert.equal(calls.count, 1);
});

test("closes the connection when a second request arrives before the first is answered (no pipelining)", async (t) => {
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    setTimeout(() => {
      if (!res.aborted) res.end("late");
    }, 50);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/1") + requestHead("GET", "/2"));
  assert.equal((await conn.readUntilClose()).data.length, 0);
});

test("a Content-Length of ten digits or more never reaches the handler and gets no answer; nine digits pass", async (t) => {
  // uWS would call the handler and then close (README "Limits"); the package refuses these first. The largest
  // single PUT is 999 999 999 bytes; bigger objects go up as multipart uploads.
  const { server, calls } = await countingServer();
  t.after(() => server.closeAll());
  for (const length of ["1000000000", "5368709120"]) {
    const conn = await RawConnection.open(server.port);
    conn.write(requestHead("PUT", "/b/k", [`Content-Length: ${length}`]));
    assert.equal((await conn.readUntilClose()).data.length, 0, length);
    conn.close();
  }
  assert.equal(calls.count, 0);
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Content-Length: 999999999"]));
  await delay(100);
  assert.equal(calls.count, 1, "a nine-digit length reaches the handler");
});
