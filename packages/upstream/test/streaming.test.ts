import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { createUpstreamBody, UpstreamPools } from "../src/index.js";
import { send, startServer } from "./helpers.js";

const SIZE = 16 * 1024 * 1024;
const CHUNK = 64 * 1024;
const pools = new UpstreamPools({ connections: 4 });
after(() => pools.close());

test("streams a 16 MiB PUT body to a slow server byte for byte, pausing the producer", async (t) => {
  const serverHash = createHash("sha256");
  let received = 0;
  let maxAheadBytes = 0;
  const body = createUpstreamBody(SIZE);
  const srv = await startServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      serverHash.update(chunk);
      maxAheadBytes = Math.max(maxAheadBytes, body.bytesWritten - received);
      // A slow store: a short pause after every chunk it reads.
      req.pause();
      setTimeout(() => req.resume(), 1);
    });
    req.on("end", () => {
      res.writeHead(200, { etag: '"done"' });
      res.end();
    });
  });
  t.after(() => srv.close());
  const { done } = send(pools, {
    origin: srv.origin,
    method: "PUT",
    path: "/bucket/big",
    headers: [["host", "store.example"]],
    body,
  });

  const clientHash = createHash("sha256");
  let pauses = 0;
  let written = 0;
  await new Promise<void>((resolve) => {
    const produce = () => {
      while (written < SIZE) {
        const chunk = randomBytes(CHUNK);
        clientHash.update(chunk);
        written += chunk.length;
        const more = body.write(chunk);
        if (!more) {
          pauses += 1;
          return; // resumed by onDrain
        }
      }
      body.end();
      resolve();
    };
    body.onDrain(produce);
    produce();
  });
  const outcome = await done;

  t.diagnostic(`pauses ${pauses}, producer ahead ${maxAheadBytes} B`);
  assert.equal(outcome.error, null);
  assert.equal(outcome.status, 200);
  assert.equal(received, SIZE);
  assert.equal(serverHash.digest("hex"), clientHash.digest("hex"));
  // The body writes straight into the socket, so it pauses whenever the socket's buffer is full.
  assert.ok(pauses >= 4, `the producer was paused (${pauses} times)`);
  // In flight between producer and store: the body buffer plus the kernel's socket buffers (~5 MB on loopback
  // here; autotuning can reach ~10 MB), never the whole object.
  assert.ok(maxAheadBytes < (SIZE * 3) / 4, `producer ran ${maxAheadBytes} bytes ahead of the store`);
});

test("streams a 16 MiB GET to a slow consumer that pauses and resumes the upstream", async (t) => {
  let serverWritten = 0;
  let consumed = 0;
  let maxAheadBytes = 0;
  let serverWaits = 0;
  const payload = randomBytes(CHUNK);
  const srv = await startServer((_req, res) => {
    res.writeHead(200, { "content-length": SIZE, "content-type": "application/octet-stream" });
    const pump = () => {
      while (serverWritten < SIZE) {
        serverWritten += CHUNK;
        maxAheadBytes = Math.max(maxAheadBytes, serverWritten - consumed);
        if (!res.write(payload)) {
          serverWaits += 1;
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  t.after(() => srv.close());

  let paused = false;
  let dataWhilePaused = 0;
  const consumerHash = createHash("sha256");
  const { done } = send(
    pools,
    {
      origin: srv.origin,
      method: "GET",
      path: "/bucket/big",
      headers: [["host", "store.example"]],
      body: null,
    },
    {
      onData(chunk, call) {
        if (paused) dataWhilePaused += 1;
        consumed += chunk.length;
        consumerHash.update(chunk);
        // A slow client: every chunk pauses the upstream until the next macrotask.
        paused = true;
        setImmediate(() => {
          paused = false;
          call.resume();
        });
        return false;
      },
    },
  );
  const outcome = await done;

  t.diagnostic(`server waits ${serverWaits}, server ahead ${maxAheadBytes} B`);
  assert.equal(outcome.error, null);
  assert.equal(consumed, SIZE);
  const expected = createHash("sha256");
  for (let i = 0; i < SIZE / CHUNK; i += 1) expected.update(payload);
  assert.equal(consumerHash.digest("hex"), expected.digest("hex"));
  assert.equal(dataWhilePaused, 0, "no data is delivered while paused");
  assert.ok(serverWaits > 0, "the server felt backpressure");
  assert.ok(maxAheadBytes < (SIZE * 3) / 4, `server ran ${maxAheadBytes} bytes ahead of the consumer`);
});
