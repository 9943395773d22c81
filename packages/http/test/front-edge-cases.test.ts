/**
 * Edge cases of the HTTP front: a request body paused until its end still lets the connection read its next
 * request; chunked backpressure drains once onWritable fires; HEAD counts streamed bytes as the same GET sends
 * them; onWritable callbacks that throw are caught; Content-Length digits are counted as uWS counts them; while
 * draining, HEAD answers say Connection: close as GETs do, and an answer that says it (streamed ones too) is the
 * last its connection serves, a chunked one not saying it; header values that are not UTF-8 are refused, those
 * that are reach the handler (less what uWS trims); maxHeaderBytes counts bytes (README "What this uWS build
 * does").
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { type TestContext, test } from "node:test";
import type { ResponseWriter } from "../src/index.js";
import { delay, RawConnection, requestHead, startTestServer } from "./raw-connection.js";

/** `p`, or a rejection naming `what` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Three chunks (the last one the terminator) that reach the server in one read. */
const CHUNKED_BODY = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

test("a chunked body whose consumer paused on the first chunk does not leave the socket paused for the next request", async (t) => {
  let requests = 0;
  const server = await startTestServer((_req, body, res) => {
    requests++;
    res.onAborted(() => {});
    const parts: Buffer[] = [];
    body.onData((chunk, isLast) => {
      parts.push(chunk);
      if (isLast) {
        res.end(Buffer.concat(parts));
        return;
      }
      // A consumer applying backpressure (the gateway pauses while it authenticates or the upstream drains).
      body.pause();
      setTimeout(() => body.resume(), 20);
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Transfer-Encoding: chunked"]) + CHUNKED_BODY);
  assert.equal((await within(conn.readResponse(), 2000, "first response")).body.toString(), "hello world");
  // The rest of the body (" world" and the terminator) was queued while uWS was paused: unless the socket is
  // resumed once it is delivered, this request is never read and uWS drops the connection after ~10 s idle.
  conn.write(requestHead("GET", "/b/k"));
  const next = await within(conn.readResponse(), 2000, "second request on the keep-alive connection");
  assert.equal(next.status, 200);
  assert.equal(requests, 2);
});

test("a chunked body queued before its consumer registers does not leave the socket paused for the next request", async (t) => {
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    // Register late, as a handler that awaits something first does.
    setTimeout(() => {
      const parts: Buffer[] = [];
      body.onData((chunk, isLast) => {
        parts.push(chunk);
        if (isLast) res.end(Buffer.concat(parts));
      });
    }, 20);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Transfer-Encoding: chunked"]) + CHUNKED_BODY);
  assert.equal((await within(conn.readResponse(), 2000, "first response")).body.toString(), "hello world");
  conn.write(requestHead("GET", "/b/k"));
  assert.equal((await within(conn.readResponse(), 2000, "second request")).status, 200);
});

test("chunked response: once onWritable has fired, the bytes held back by backpressure reach the client without another write", async (t) => {
  const data = randomBytes(24 << 20);
  let firstWrite: boolean | null = null;
  let writableCalled = false;
  let writer: ResponseWriter | null = null;
  const server = await startTestServer((_req, _body, res) => {
    writer = res;
    res.onAborted(() => {});
    res.writeHead(200, []);
    setTimeout(() => {
      firstWrite = res.write(data, null);
      // A writer that has nothing more to send for now (an upstream that is slow, an S3 Select scan).
      res.onWritable(() => {
        writableCalled = true;
      });
    }, 5);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.socket.pause(); // the client reads nothing for a while: the 24 MiB cannot all go out at once
  conn.write(requestHead("GET", "/b/k"));
  await delay(300);
  conn.socket.resume();
  await delay(1500);
  const received = conn.snapshot().bytes;
  (writer as ResponseWriter | null)?.finish();
  assert.equal(firstWrite, false, "the write met backpressure");
  assert.equal(writableCalled, true, "onWritable reported the backpressure drained");
  // uWS does not drain its own buffer while an onWritable handler is registered: unless the package flushes it,
  // the rest of the chunk (MiBs) waits in uWS until the next write() or finish().
  assert.ok(received > data.length, `the client got ${received} of the ${data.length} body bytes written`);
});

/**
 * Answers a GET and then a HEAD on one keep-alive connection with `respond`; returns the GET's body and the
 * HEAD's Content-Length (the HEAD must complete).
 */
async function getThenHead(
  t: TestContext,
  respond: (res: ResponseWriter) => void,
): Promise<{ body: string; headLength: string | undefined }> {
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    respond(res);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const body = (await within(conn.readResponse(), 2000, "GET")).body.toString();
  conn.write(requestHead("HEAD", "/b/k"));
  const head = await within(conn.readResponse(true), 2000, "HEAD (never completed)");
  return { body, headLength: head.headers.find(([k]) => k === "content-length")?.[1] };
}

test("HEAD: a known-length body handed over with write() completes at the last byte, as the same GET does", async (t) => {
  const { body, headLength } = await getThenHead(t, (res) => {
    res.writeHead(200, [["etag", '"x"']]);
    res.write(Buffer.from("hel"), 5);
    res.write(Buffer.from("lo"), 5); // the last byte: the response is complete (ResponseWriter.write)
  });
  assert.equal(body, "hello");
  assert.equal(headLength, "5");
});

test("HEAD: write() followed by end(rest) reports the full length, as the same GET sends it", async (t) => {
  const { body, headLength } = await getThenHead(t, (res) => {
    res.writeHead(200, []);
    res.write(Buffer.from("hello"), 10);
    res.end(Buffer.from("world"));
  });
  assert.equal(body, "helloworld");
  assert.equal(headLength, "10");
});

test("a writable callback that throws when called later by onWritable() is caught and reported, not thrown uncaught", async (t) => {
  const events: Array<{ callback: string }> = [];
  const listener = (event: unknown) => events.push(event as { callback: string });
  subscribe("osp:http:callback-error", listener);
  t.after(() => unsubscribe("osp:http:callback-error", listener));
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  t.after(() => process.off("uncaughtException", onUncaught));
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, []);
    res.write(Buffer.from("ab"), null); // no backpressure: onWritable calls back on a microtask
    res.onWritable(() => {
      throw new Error("writable callback failed");
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  await delay(100);
  // An uncaught exception would end the worker process (and every request it serves) outside the test runner.
  assert.deepEqual(uncaught, [], "the exception escaped as an uncaughtException");
  assert.deepEqual(
    events.map((e) => e.callback),
    ["writable"],
  );
});

test("a Content-Length padded with zeros to ten digits never reaches the handler (uWS counts every digit)", async (t) => {
  let calls = 0;
  let aborted = 0;
  const server = await startTestServer((_req, body, res) => {
    calls++;
    res.onAborted(() => aborted++);
    body.onData((_chunk, isLast) => {
      if (isLast) res.end("ok");
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(`${requestHead("PUT", "/b/k", ["Content-Length: 0000000005"])}hello`);
  await within(conn.readUntilClose(), 2000, "close");
  // uWS would call the handler, then fail its own parse of the ten-digit length and close the connection.
  assert.equal(calls, 0, `the handler was called (and then aborted ${aborted} time(s))`);
});

test("while draining, a HEAD answered with end() asks the client to close, as a GET does", async (t) => {
  let requests = 0;
  const server = await startTestServer((_req, _body, res) => {
    requests++;
    res.writeHead(200, []);
    res.end("hello");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  server.close();
  conn.write(requestHead("HEAD", "/b/k"));
  const head = await within(conn.readResponse(true), 2000, "HEAD");
  assert.equal(head.headers.find(([k]) => k === "content-length")?.[1], "5");
  assert.equal(head.headers.find(([k]) => k === "connection")?.[1], "close");
  // As promised, the connection serves nothing more: uWS closes it at the next request.
  conn.write(requestHead("HEAD", "/b/k"));
  assert.equal((await within(conn.readUntilClose(), 2000, "close")).data.length, 0);
  assert.equal(requests, 1);
});

test("a HEAD whose handler threw gets its 500 with Connection: close, as a GET does", async (t) => {
  const server = await startTestServer(() => {
    throw new Error("boom");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("HEAD", "/b/k"));
  const res = await within(conn.readResponse(true), 2000, "HEAD");
  assert.equal(res.status, 500);
  assert.equal(res.headers.find(([k]) => k === "connection")?.[1], "close");
  assert.equal((await within(conn.readUntilClose(), 2000, "close")).error, null);
});

test("while draining, a streamed response that says Connection: close is the last one served on its connection", async (t) => {
  let requests = 0;
  const server = await startTestServer((_req, _body, res) => {
    requests++;
    res.onAborted(() => {});
    res.writeHead(200, []);
    res.write(Buffer.from("hello"), 5);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  server.close();
  conn.write(requestHead("GET", "/b/k"));
  const res = await within(conn.readResponse(), 2000, "GET");
  const saysClose = res.headers.find(([k]) => k === "connection")?.[1] === "close";
  conn.write(requestHead("GET", "/b/k"));
  await delay(200);
  // RFC 9112 §9.6: a server that sends "close" must close the connection after that response. uWS has no close
  // after a streamed (tryEnd/chunked) response, so such a response must not say "close" unless it is the last
  // one its connection serves; the `end()` path uses uWS's flag and does close.
  assert.ok(!(saysClose && requests > 1), "a second request was served after Connection: close");
});

test("while draining, a known-length body held back by backpressure arrives whole, then its connection closes", async (t) => {
  const total = 24 << 20;
  const chunk = Buffer.alloc(1 << 20, 97);
  let requests = 0;
  let aborts = 0;
  const server = await startTestServer((_req, _body, res) => {
    requests++;
    res.onAborted(() => aborts++);
    res.writeHead(200, []);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!res.write(chunk, total)) {
          res.onWritable(pump);
          return;
        }
      }
    };
    pump();
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  server.close();
  conn.socket.pause(); // the client reads nothing for a while: the body waits on backpressure
  conn.write(requestHead("GET", "/b/k"));
  await delay(200);
  conn.socket.resume();
  const res = await within(conn.readResponse(), 5000, "GET");
  assert.equal(res.body.length, total);
  assert.equal(res.headers.find(([k]) => k === "connection")?.[1], "close");
  assert.equal(res.headers.find(([k]) => k === "content-length")?.[1], String(total));
  // A client that ignores the close gets its next request refused by uWS closing the connection.
  conn.write(requestHead("GET", "/b/k"));
  assert.equal((await within(conn.readUntilClose(), 2000, "close")).data.length, 0);
  assert.equal(requests, 1);
  assert.equal(aborts, 0, "a completed response is not reported aborted when its connection closes");
});

test("while draining, a chunked response does not say Connection: close, which uWS could not honour", async (t) => {
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, []);
    res.write(Buffer.from("hello"), null);
    res.finish();
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  server.close();
  conn.write(requestHead("GET", "/b/k"));
  const res = await within(conn.readResponse(), 2000, "GET");
  assert.equal(res.body.toString(), "hello");
  assert.equal(
    res.headers.find(([k]) => k === "connection"),
    undefined,
  );
});

test("a header value that is not UTF-8 is refused, never passed on altered with U+FFFD", async (t) => {
  const seen: string[] = [];
  const server = await startTestServer((req, _body, res) => {
    seen.push(req.headers.find(([k]) => k === "x-amz-meta-a")?.[1] ?? "");
    res.end("ok");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(
    Buffer.concat([
      Buffer.from("GET /b/k HTTP/1.1\r\nHost: h\r\nx-amz-meta-a: caf"),
      Buffer.from([0xe9]), // latin-1 "é": not UTF-8
      Buffer.from("-x\r\n\r\n"),
    ]),
  );
  const res = await within(conn.readResponse(), 2000, "response");
  // uWS hands the value over as "caf\uFFFD-x": passed on, the gateway would sign-check or forward other bytes
  // than the client sent. The request target gets the same 400 for such bytes.
  assert.deepEqual(seen, [], `the handler saw ${JSON.stringify(seen)}`);
  assert.equal(res.status, 400);
});

test("a UTF-8 header value reaches the handler as its characters, less the non-ASCII ones uWS trims off its ends", async (t) => {
  const seen: string[] = [];
  const server = await startTestServer((req, _body, res) => {
    seen.push(req.headers.find(([k]) => k === "x-amz-meta-a")?.[1] ?? "");
    res.end("ok");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  for (const value of ["café-x", "€a", "caf\u00e9"]) {
    conn.write(Buffer.from(`GET /b/k HTTP/1.1\r\nHost: h\r\nx-amz-meta-a: ${value}\r\n\r\n`, "utf8"));
    assert.equal((await within(conn.readResponse(), 2000, value)).status, 200);
  }
  // uWS's trim treats every byte over 0x7f as space: these arrive shortened, and the JS API cannot tell.
  assert.deepEqual(seen, ["café-x", "a", "caf"]);
});

test("maxHeaderBytes counts bytes: a head of multi-byte characters over the limit gets 431", async (t) => {
  let calls = 0;
  const server = await startTestServer(
    (_req, _body, res) => {
      calls++;
      res.end("ok");
    },
    { maxHeaderBytes: 2048 },
  );
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  const value = `a${"€".repeat(1000)}b`; // 3002 bytes on the wire, 1002 UTF-16 units
  conn.write(Buffer.from(`GET /b/k HTTP/1.1\r\nHost: h\r\nx-amz-meta-a: ${value}\r\n\r\n`, "utf8"));
  const res = await within(conn.readResponse(), 2000, "response");
  assert.equal(res.status, 431);
  assert.equal(calls, 0);
});
