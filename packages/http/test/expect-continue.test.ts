/**
 * What this uWS build does with `Expect: 100-continue` (README "Expect: 100-continue"): it writes the 100
 * itself, before our handler runs, for the exact lower-case value, and offers no way to write one otherwise.
 * These tests pin that down, so a uWS upgrade that changes it is noticed.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { delay, RawConnection, requestHead, startTestServer } from "./raw-connection.js";

test("uWS sends 100 Continue before the handler has decided anything, for the lower-case expectation", async (t) => {
  let handlerSawRequest = false;
  const server = await startTestServer((_req, body, res) => {
    handlerSawRequest = true;
    res.onAborted(() => {});
    body.pause(); // the gateway authenticates first
    setTimeout(() => {
      res.writeHead(403, []);
      res.end("denied");
    }, 100);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Content-Length: 3", "Expect: 100-continue"]));
  const interim = await conn.readResponse(true);
  assert.equal(interim.status, 100);
  assert.equal(interim.head, "HTTP/1.1 100 Continue\r\n\r\n");
  assert.equal(handlerSawRequest, true);
  conn.write("abc");
  const final = await conn.readResponse();
  assert.equal(final.status, 403);
  conn.write(requestHead("GET", "/b/k"));
  assert.equal((await conn.readResponse()).status, 403, "the connection goes on after the refused body");
});

test("sends no 100 for another spelling", async (t) => {
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    const parts: Buffer[] = [];
    body.onData((chunk, isLast) => {
      parts.push(chunk);
      if (isLast) res.end(Buffer.concat(parts));
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Content-Length: 3", "Expect: 100-Continue"]));
  await delay(50);
  conn.write("xyz"); // what a client does when its wait for the 100 times out
  const res = await conn.readResponse();
  assert.equal(res.status, 200, "no interim response came first");
  assert.equal(res.body.toString(), "xyz");
});

test("holds a body sent after the automatic 100 at the socket until the handler reads it", async (t) => {
  const upload = randomBytes(1 << 20);
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    body.pause();
    setTimeout(() => {
      let bytes = 0;
      body.onData((chunk, isLast) => {
        bytes += chunk.length;
        if (isLast) res.end(String(bytes));
      });
      body.resume();
    }, 50);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", [`Content-Length: ${upload.length}`, "Expect: 100-continue"]));
  assert.equal((await conn.readResponse(true)).status, 100);
  conn.write(upload);
  assert.equal((await conn.readResponse()).body.toString(), String(upload.length));
});
