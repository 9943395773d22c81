import assert from "node:assert/strict";
import { test } from "node:test";
import type { IncomingRequest } from "../src/index.js";
import { RawConnection, requestHead, startTestServer } from "./raw-connection.js";

/** Starts a server that answers 200 and records every request head it saw. */
async function recordingServer() {
  const seen: IncomingRequest[] = [];
  const server = await startTestServer((req, _body, res) => {
    seen.push(req);
    res.end("ok");
  });
  return { server, seen };
}

test("passes the raw path through byte for byte, with //, dot segments and encoded slashes untouched", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "//a/./../b%2F%20+?list-type=2&prefix=a%2Fb&x"));
  assert.equal((await conn.readResponse()).status, 200);
  assert.equal(seen[0]!.method, "GET");
  assert.equal(seen[0]!.rawPath, "//a/./../b%2F%20+");
  assert.equal(seen[0]!.rawQuery, "list-type=2&prefix=a%2Fb&x");
});

test("gives an empty query for no '?' and for a bare '?', and keeps a second '?' in the query", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  for (const target of ["/b/k", "/b/k?", "/b/k??a=1"]) {
    conn.write(requestHead("GET", target));
    await conn.readResponse();
  }
  assert.deepEqual(
    seen.map((r) => [r.rawPath, r.rawQuery]),
    [
      ["/b/k", ""],
      ["/b/k", ""],
      ["/b/k", "?a=1"],
    ],
  );
});

test("keeps duplicate headers in received order with lower-case names and trimmed values", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(
    requestHead("PUT", "/b/k", [
      "X-Amz-Meta-A: 1",
      "x-amz-meta-b:two  ",
      "X-AMZ-META-A:   3",
      "Content-Length: 0",
    ]),
  );
  await conn.readResponse();
  assert.deepEqual(seen[0]!.headers, [
    ["host", "localhost"],
    ["x-amz-meta-a", "1"],
    ["x-amz-meta-b", "two"],
    ["x-amz-meta-a", "3"],
    ["content-length", "0"],
  ]);
  assert.equal(seen[0]!.method, "PUT");
});

test("reports the peer address as text and the time the head arrived", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const before = Date.now();
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("DELETE", "/b/k"));
  await conn.readResponse();
  assert.equal(seen[0]!.remoteAddress, "127.0.0.1");
  assert.equal(seen[0]!.method, "DELETE");
  assert.ok(seen[0]!.receivedAtMs >= before && seen[0]!.receivedAtMs <= Date.now());
});

test("refuses with 400 a target holding bytes that are not UTF-8, which could not be passed on exactly", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(
    Buffer.concat([
      Buffer.from("GET /b/caf"),
      Buffer.from([0xe9]),
      Buffer.from(" HTTP/1.1\r\nHost: h\r\n\r\n"),
    ]),
  );
  const res = await conn.readResponse();
  assert.equal(res.status, 400);
  assert.equal(seen.length, 0);
});

test("serves several requests one after another on one keep-alive connection", async (t) => {
  const { server, seen } = await recordingServer();
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  for (let i = 0; i < 5; i++) {
    conn.write(requestHead("GET", `/b/k${i}`));
    const res = await conn.readResponse();
    assert.equal(res.body.toString(), "ok");
  }
  assert.deepEqual(
    seen.map((r) => r.rawPath),
    ["/b/k0", "/b/k1", "/b/k2", "/b/k3", "/b/k4"],
  );
});
