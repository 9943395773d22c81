/**
 * A TLS soak: many responses, each ended by the origin's close_notify right behind its last byte, read by a
 * caller that pauses and resumes at random. Every body must arrive byte for byte, whatever the framing
 * (Content-Length, chunked, or until the close itself), whatever TLS decrypted while the call was paused.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { UpstreamPools } from "../src/index.js";
import { delay, fixtureFile, send, startRawOrigin } from "./helpers.js";
import { seededRandom } from "./parser-harness.js";

const RESPONSES = 240;
const IN_FLIGHT = 6;

/** The response for request `index`: its framing rotates, its length varies from 0 to ~300 KiB. */
function responseFor(index: number, body: Buffer): Buffer[] {
  switch (index % 3) {
    case 0:
      return [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body];
    case 1: {
      const parts: Buffer[] = [Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")];
      for (let at = 0; at < body.length; at += 50_000) {
        const chunk = body.subarray(at, at + 50_000);
        parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
      }
      parts.push(Buffer.from("0\r\n\r\n"));
      return parts;
    }
    default:
      return [Buffer.from("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), body];
  }
}

test(`delivers ${RESPONSES} TLS responses followed by close_notify byte for byte while pausing at random`, async (t) => {
  const rand = seededRandom(15);
  const bodies = Array.from({ length: RESPONSES }, (_, i) =>
    randomBytes(i % 10 === 0 ? 0 : rand(1, 300_000)),
  );
  const origin = await startRawOrigin(true, (socket, req) => {
    const index = Number(/^GET \/(\d+)/.exec(req.head)?.[1]);
    for (const part of responseFor(index, bodies[index]!)) socket.write(part);
    socket.end(); // close_notify right behind the last byte of the response
  });
  const pools = new UpstreamPools({}, new Map([[origin.origin, { caFile: fixtureFile("ca.pem") }]]));
  t.after(async () => {
    await pools.close();
    await origin.close();
  });
  let pauses = 0;
  let next = 0;
  const worker = async () => {
    while (next < RESPONSES) {
      const index = next++;
      const outcome = await send(
        pools,
        {
          origin: origin.origin,
          method: "GET",
          path: `/${index}`,
          headers: [["host", "localhost"]],
          body: null,
        },
        {
          onData: (_chunk, call) => {
            if (rand(0, 2) !== 0) return true;
            pauses++;
            // Resume later: after a macrotask, or a few ms, so that TLS decrypts more (and the close) meanwhile.
            const wait = rand(0, 3);
            if (wait === 0) setImmediate(() => call.resume());
            else void delay(wait).then(() => call.resume());
            return false;
          },
        },
      ).done;
      assert.equal(outcome.error, null, `response ${index}: ${outcome.error?.message}`);
      assert.equal(outcome.body.length, bodies[index]!.length, `response ${index}: length`);
      assert.ok(outcome.body.equals(bodies[index]!), `response ${index}: bytes differ`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  assert.ok(pauses > RESPONSES, `only ${pauses} pauses`);
  // A request may go out twice: the close_notify of a Content-Length or chunked response can come in a later
  // read than its last byte, after the connection went back to the pool (then the GET is sent once more).
  assert.ok(origin.requests() >= RESPONSES);
});
