import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type TestContext, test } from "node:test";
import type { HttpServer } from "../src/index.js";
import { delay, RawConnection, requestHead, startTestServer } from "./raw-connection.js";

/**
 * Bytes the kernel holds, unread by the application, on the server side of a loopback connection (Linux
 * /proc/net/tcp `rx_queue`). Growing while paused proves uWS stopped reading the socket rather than reading on
 * into memory.
 */
function serverReceiveQueueBytes(serverPort: number, clientPort: number): number {
  const hexPort = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/tcp", "latin1").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    if (fields[1]!.endsWith(`:${hexPort(serverPort)}`) && fields[2]!.endsWith(`:${hexPort(clientPort)}`)) {
      return Number.parseInt(fields[4]!.split(":")[1]!, 16);
    }
  }
  return -1;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** PUTs `upload` with its Content-Length on a new connection to `server` (closed after the test): the answer's body. */
async function putBody(t: TestContext, server: HttpServer, upload: Buffer): Promise<string> {
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", [`Content-Length: ${upload.length}`]));
  conn.write(upload);
  return (await conn.readResponse()).body.toString();
}

test("a 5 MiB upload to a slow consumer stops at the socket while paused and arrives intact", async (t) => {
  const upload = randomBytes(5 << 20);
  let deliveredWhilePaused = 0;
  let mostDeliveredByOneResume = 0;
  let rxQueueWhilePaused = -1;
  let clientPort = 0;
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    const hash = createHash("sha256");
    let received = 0;
    let deliveries = 0;
    let paused = false;
    let pauses = 0;
    body.onData((chunk, isLast) => {
      deliveries++;
      if (paused) deliveredWhilePaused++;
      hash.update(chunk);
      received += chunk.length;
      if (isLast) {
        res.end(`${received} ${hash.digest("hex")}`);
        return;
      }
      // A slow consumer: it stops after every chunk, the first time long enough for the kernel buffer to fill.
      paused = true;
      body.pause();
      const first = pauses++ === 0;
      setTimeout(
        () => {
          if (first) rxQueueWhilePaused = serverReceiveQueueBytes(server.port, clientPort);
          paused = false;
          const before = deliveries;
          body.resume();
          mostDeliveredByOneResume = Math.max(mostDeliveredByOneResume, deliveries - before);
        },
        first ? 250 : 2,
      );
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  clientPort = conn.socket.localPort!;
  conn.write(requestHead("PUT", "/b/big", [`Content-Length: ${upload.length}`]));
  conn.write(upload);
  const res = await conn.readResponse();
  assert.equal(res.body.toString(), `${upload.length} ${sha256(upload)}`);
  assert.equal(deliveredWhilePaused, 0);
  // What a paused body holds is at most the one socket read (<= 512 KiB) uWS had in hand; the rest stays in
  // the kernel, where TCP flow control holds the client back.
  assert.ok(mostDeliveredByOneResume <= 1, `resume() delivered ${mostDeliveredByOneResume} chunks at once`);
  assert.ok(rxQueueWhilePaused > 256 * 1024, `only ${rxQueueWhilePaused} bytes waited in the kernel`);
});

test("queues the body that arrives before a consumer registers, and loses none of it", async (t) => {
  const upload = randomBytes(300_000);
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    // Register late, as a handler that awaits something first would.
    setTimeout(() => {
      const parts: Buffer[] = [];
      body.onData((chunk, isLast) => {
        parts.push(chunk);
        if (isLast) res.end(sha256(Buffer.concat(parts)));
      });
    }, 50);
  });
  assert.equal(await putBody(t, server, upload), sha256(upload));
});

test("lent chunks are views that die with their callback; chunks kept for later stay copies", async (t) => {
  const upload = randomBytes(3 << 20);
  const kept: Array<{ chunk: Buffer; length: number }> = [];
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    const hash = createHash("sha256");
    let delivered = 0;
    // Lend from the start, registered late: what arrived before registration was queued and is a copy.
    setTimeout(() => {
      body.lendChunks();
      body.onData((chunk, isLast) => {
        hash.update(chunk);
        kept.push({ chunk, length: chunk.length });
        delivered++;
        // Pause now and then: what arrives meanwhile is queued, so it must be a copy too.
        if (!isLast && delivered % 3 === 0) {
          body.pause();
          setTimeout(() => body.resume(), 5);
        }
        if (isLast) res.end(hash.digest("hex"));
      });
    }, 50);
  });
  assert.equal(await putBody(t, server, upload), sha256(upload), "read in the callback, every byte is right");
  // Kept past its callback, a lent view is empty (uWS detached its memory); a copy still holds its bytes.
  const views = kept.filter((k) => k.length > 0 && k.chunk.length === 0);
  const copies = kept.filter((k) => k.length > 0 && k.chunk.length === k.length);
  assert.equal(views.length + copies.length, kept.filter((k) => k.length > 0).length);
  assert.ok(views.length > 0, "some chunks were lent");
  assert.ok(copies.length > 0, "the queued chunks were copies");
  assert.equal(kept[0]!.chunk.length, kept[0]!.length, "the chunk queued before registration is a copy");
});

test("without lendChunks every chunk is a copy the consumer may keep", async (t) => {
  const upload = randomBytes(2 << 20);
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    const parts: Buffer[] = [];
    body.onData((chunk, isLast) => {
      parts.push(chunk);
      if (isLast) res.end(sha256(Buffer.concat(parts)));
    });
  });
  assert.equal(await putBody(t, server, upload), sha256(upload));
});

test("decodes a chunked request body and reports it as a body", async (t) => {
  let hasBody: boolean | null = null;
  const server = await startTestServer((_req, body, res) => {
    res.onAborted(() => {});
    hasBody = body.hasBody;
    const parts: Buffer[] = [];
    body.onData((chunk, isLast) => {
      parts.push(chunk);
      if (isLast) res.end(Buffer.concat(parts));
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("PUT", "/b/k", ["Transfer-Encoding: chunked"]));
  conn.write("5\r\nhello\r\n");
  await delay(20);
  conn.write("6\r\n world\r\n0\r\n\r\n");
  assert.equal((await conn.readResponse()).body.toString(), "hello world");
  assert.equal(hasBody, true);
});

test("gives a request without a body one empty last chunk, and Content-Length 0 counts as none", async (t) => {
  const seen: Array<[boolean, number, boolean]> = [];
  const server = await startTestServer((_req, body, res) => {
    body.onData((chunk, isLast) => {
      seen.push([body.hasBody, chunk.length, isLast]);
      res.end();
    });
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/b/k"));
  await conn.readResponse();
  conn.write(requestHead("PUT", "/b/k", ["Content-Length: 0"]));
  await conn.readResponse();
  assert.deepEqual(seen, [
    [false, 0, true],
    [false, 0, true],
  ]);
});

test("discards the unread rest of a body once the response is sent, and serves the next request", async (t) => {
  const server = await startTestServer((req, body, res) => {
    res.onAborted(() => {});
    if (req.rawPath === "/refuse") {
      // Answer before reading (an auth failure): the body is still on its way and paused.
      body.pause();
      setTimeout(() => {
        res.writeHead(403, [["content-type", "application/xml"]]);
        res.end("<Error/>");
      }, 20);
      return;
    }
    res.end("next");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  const upload = randomBytes(2 << 20);
  conn.write(requestHead("PUT", "/refuse", [`Content-Length: ${upload.length}`]));
  conn.write(upload);
  assert.equal((await conn.readResponse()).status, 403);
  conn.write(requestHead("GET", "/next"));
  assert.equal((await conn.readResponse()).body.toString(), "next");
});
