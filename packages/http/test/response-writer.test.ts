import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { test } from "node:test";
import type { ResponseWriter } from "../src/index.js";
import { delay, RawConnection, requestHead, startTestServer } from "./raw-connection.js";

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Streams the chunks `next` returns until it returns null, honouring backpressure; resolves with how often it had to wait. */
function pump(
  res: ResponseWriter,
  next: () => Uint8Array | null,
  totalLength: number | null,
): Promise<number> {
  return new Promise((resolve) => {
    let waits = 0;
    const go = (): void => {
      for (let chunk = next(); chunk !== null; chunk = next()) {
        if (!res.write(chunk, totalLength)) {
          waits++;
          res.onWritable(go);
          return;
        }
      }
      res.finish();
      resolve(waits);
    };
    go();
  });
}

/** `data` in `chunkBytes` pieces (views). */
function slices(data: Buffer, chunkBytes: number): () => Uint8Array | null {
  let offset = 0;
  return () => {
    if (offset >= data.length) return null;
    const chunk = data.subarray(offset, offset + chunkBytes);
    offset += chunk.length;
    return chunk;
  };
}

test("writes status and headers with the body in one response, dropping hop-by-hop and framing headers", async (t) => {
  const server = await startTestServer((_req, _body, res) => {
    res.writeHead(404, [
      ["content-type", "application/xml"],
      ["Connection", "keep-alive"],
      ["transfer-encoding", "chunked"],
      ["content-length", "999"],
      ["date", "Thu, 01 Jan 1970 00:00:00 GMT"],
      ["x-amz-request-id", "R1"],
      ["x-amz-meta-a", "1"],
      ["x-amz-meta-a", "2"],
    ]);
    res.end("<Error/>");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const res = await conn.readResponse();
  assert.equal(res.status, 404);
  assert.match(res.head, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.deepEqual(
    res.headers.filter(([k]) => k !== "date"),
    [
      ["content-type", "application/xml"],
      ["x-amz-request-id", "R1"],
      ["x-amz-meta-a", "1"],
      ["x-amz-meta-a", "2"],
      ["content-length", "8"],
    ],
  );
  assert.equal(res.headers.filter(([k]) => k === "date").length, 1, "exactly uWS's own Date");
  assert.doesNotMatch(res.head, /uWebSockets/i);
  assert.equal(res.body.toString(), "<Error/>");
});

test("refuses response headers that would split the response", async (t) => {
  let thrown: unknown = null;
  const server = await startTestServer((_req, _body, res) => {
    try {
      res.writeHead(200, [["x-a", "1\r\nx-injected: yes"]]);
    } catch (err) {
      thrown = err;
      res.end("safe");
    }
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const res = await conn.readResponse();
  assert.ok(thrown instanceof TypeError);
  assert.equal(res.body.toString(), "safe");
  assert.doesNotMatch(res.head, /x-injected/);
});

test("streams 256 MiB with a known length to a slow reader in far less memory than the body", async (t) => {
  // Every chunk is a fresh buffer made while streaming, so a writer that held on to what it was given (or
  // copied it) would keep the whole body alive: RSS would grow by its 256 MiB. Each chunk starts with its
  // number, so a lost, repeated or reordered chunk changes the hash.
  const chunkBytes = 256 * 1024;
  const chunks = 1024;
  const total = chunkBytes * chunks;
  const pattern = randomBytes(chunkBytes);
  const sent = createHash("sha256");
  let made = 0;
  const nextChunk = (): Uint8Array | null => {
    if (made === chunks) return null;
    const chunk = Buffer.allocUnsafe(chunkBytes);
    pattern.copy(chunk);
    chunk.writeUInt32BE(made++, 0);
    sent.update(chunk);
    return chunk;
  };
  let waits = -1;
  let rssGrowth = 0;
  let sampler: NodeJS.Timeout | undefined;
  // Sampled until the reader has every byte: a writer that took the whole body at once would hold it then.
  const sample = (rssBefore: number) => {
    rssGrowth = Math.max(rssGrowth, process.memoryUsage.rss() - rssBefore);
  };
  t.after(() => clearInterval(sampler));
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, [["content-type", "application/octet-stream"]]);
    const rssBefore = process.memoryUsage.rss();
    sampler = setInterval(() => sample(rssBefore), 5);
    void pump(res, nextChunk, total).then((n) => {
      waits = n;
      sample(rssBefore);
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  // A slow reader that keeps nothing: it hashes what it reads, in bursts.
  const received = await new Promise<{ head: string; bytes: number; hash: string }>((resolve) => {
    const hash = createHash("sha256");
    let head = "";
    let bytes = 0;
    const socket = conn.socket;
    socket.removeAllListeners("data");
    socket.on("data", (chunk: Buffer) => {
      let body = chunk;
      if (!head.endsWith("\r\n\r\n")) {
        const text = chunk.toString("latin1");
        const end = text.indexOf("\r\n\r\n");
        head += end === -1 ? text : text.slice(0, end + 4);
        body = end === -1 ? Buffer.alloc(0) : chunk.subarray(end + 4);
      }
      hash.update(body);
      bytes += body.length;
      if (bytes === total) {
        clearInterval(reading);
        resolve({ head, bytes, hash: hash.digest("hex") });
      }
    });
    const reading = setInterval(() => {
      socket.resume();
      setTimeout(() => socket.pause(), 2);
    }, 4);
    conn.write(requestHead("GET", "/b/big"));
  });
  clearInterval(sampler);
  assert.match(received.head, new RegExp(`\\r\\ncontent-length: ${total}\\r\\n`, "i"));
  assert.equal(received.bytes, total);
  assert.equal(received.hash, sent.digest("hex"));
  // In flight: one 256 KiB chunk (kept as a view, not copied) plus socket buffers; garbage chunks waiting
  // for a GC and the reader's garbage make up the rest. A quarter of the body is far above that and far
  // below what holding the body would cost.
  t.diagnostic(`peak RSS growth ${(rssGrowth / 2 ** 20).toFixed(1)} MiB, ${waits} waits for the socket`);
  assert.ok(rssGrowth < total / 4, `RSS grew by ${rssGrowth} bytes`);
  assert.ok(waits > 0, "the writer met backpressure");
});

test("streams a chunked body when the total length is unknown, with backpressure", async (t) => {
  const data = randomBytes(6 << 20);
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, []);
    void pump(res, slices(data, 100_000), null);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const res = await conn.readResponse();
  assert.equal(res.headers.find(([k]) => k === "transfer-encoding")?.[1], "chunked");
  assert.equal(sha256(res.body), sha256(data));
  conn.write(requestHead("GET", "/b/k"));
  assert.equal(sha256((await conn.readResponse()).body), sha256(data), "the connection stays usable");
});

test("answers HEAD with the Content-Length and no body, and keeps the connection usable", async (t) => {
  const server = await startTestServer((req, _body, res) => {
    if (req.rawPath === "/via-end") {
      res.writeHead(200, [["etag", '"x"']]);
      res.end("hello world"); // on HEAD this reports 11 and sends nothing
      return;
    }
    if (req.method === "HEAD") {
      res.writeHead(200, [
        ["content-length", "5368709120"],
        ["etag", '"abc"'],
      ]);
      res.endWithoutBody(5368709120);
      return;
    }
    res.end("after");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("HEAD", "/b/k"));
  const head = await conn.readResponse(true);
  assert.equal(head.headers.find(([k]) => k === "content-length")?.[1], "5368709120");
  assert.equal(head.headers.filter(([k]) => k === "content-length").length, 1);
  conn.write(requestHead("HEAD", "/via-end"));
  const viaEnd = await conn.readResponse(true);
  assert.equal(viaEnd.headers.find(([k]) => k === "content-length")?.[1], "11");
  // Had any body byte been sent, it would now be read as the start of this response.
  conn.write(requestHead("GET", "/b/k"));
  const next = await conn.readResponse();
  assert.equal(next.status, 200);
  assert.equal(next.body.toString(), "after");
});

test("sends 304 and 204 without a body and without Content-Length", async (t) => {
  const server = await startTestServer((req, _body, res) => {
    res.writeHead(req.rawPath === "/304" ? 304 : 204, [["etag", '"abc"']]);
    if (req.rawPath === "/304") res.endWithoutBody();
    else res.end();
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  for (const path of ["/304", "/204"]) {
    conn.write(requestHead("GET", path));
    const res = await conn.readResponse();
    assert.equal(res.status, Number(path.slice(1)));
    assert.equal(
      res.headers.find(([k]) => k === "content-length"),
      undefined,
    );
  }
  conn.write(requestHead("GET", "/304"));
  assert.equal((await conn.readResponse()).status, 304, "nothing was left on the wire");
});

test("calls onAborted when the client goes away mid-response, and later calls do nothing", async (t) => {
  let resolveAborted!: () => void;
  const aborted = new Promise<void>((r) => {
    resolveAborted = r;
  });
  let writer: ResponseWriter | null = null;
  const server = await startTestServer((_req, _body, res) => {
    writer = res;
    res.onAborted(resolveAborted);
    res.writeHead(200, []);
    res.write(Buffer.alloc(1000), 1 << 30);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  conn.write(requestHead("GET", "/b/k"));
  await delay(30);
  conn.close();
  await aborted;
  const res = writer! as ResponseWriter;
  assert.equal(res.aborted, true);
  assert.equal(res.write(Buffer.alloc(10), 1 << 30), true);
  res.finish();
  res.end("x");
  res.endWithoutBody(3);
  res.destroy();
});

test("destroy() mid-body makes the client see an error, never a complete body", async (t) => {
  let abortCalls = 0;
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => abortCalls++);
    res.writeHead(200, []);
    res.write(Buffer.alloc(1000, 97), 5000);
    setTimeout(() => {
      res.destroy();
      assert.equal(res.aborted, true);
    }, 20);
  });
  t.after(() => server.closeAll());
  const { port } = server;
  const outcome = await new Promise<string>((resolve) => {
    http
      .get({ host: "127.0.0.1", port, path: "/b/k" }, (response) => {
        response.on("data", () => {});
        response.on("end", () => resolve("complete"));
        response.on("error", (err) => resolve(`error: ${err.message}`));
        response.on("aborted", () => resolve("aborted"));
      })
      .on("error", (err) => resolve(`error: ${err.message}`));
  });
  assert.notEqual(outcome, "complete");
  assert.equal(abortCalls, 0, "our own destroy() is not a client abort");
});

test("destroys rather than complete a known-length body that is finished short", async (t) => {
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, []);
    res.write(Buffer.from("abc"), 10);
    setTimeout(() => res.finish(), 20);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const { data } = await conn.readUntilClose();
  assert.match(data.toString(), /Content-Length: 10\r\n\r\nabc$/);
});

test("destroys the connection when more bytes are written than the promised length", async (t) => {
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    res.writeHead(200, []);
    res.write(Buffer.from("abc"), 4);
    setTimeout(() => res.write(Buffer.from("de"), 4), 20);
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const { data } = await conn.readUntilClose();
  assert.match(data.toString(), /Content-Length: 4\r\n\r\nabc$/);
});

test("answers 500 and closes when the handler throws, and reports it on the diagnostics channel", async (t) => {
  const { subscribe, unsubscribe } = await import("node:diagnostics_channel");
  const events: unknown[] = [];
  const listener = (event: unknown) => events.push(event);
  subscribe("osp:http:callback-error", listener);
  t.after(() => unsubscribe("osp:http:callback-error", listener));
  const server = await startTestServer(() => {
    throw new Error("boom");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  const res = await conn.readResponse();
  assert.equal(res.status, 500);
  assert.equal(res.headers.find(([k]) => k === "connection")?.[1], "close");
  assert.equal(events.length, 1);
  assert.equal((events[0] as { callback: string }).callback, "handler");
});
