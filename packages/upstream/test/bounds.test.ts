/** The queue and pause bounds and `discard()`, which gives the connection back after a refused request. */
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { test } from "node:test";
import type { S3Error } from "@osp/errors";
import {
  type ResponseHandler,
  sendUpstream,
  UPSTREAM_REQUEST_CHANNEL,
  UpstreamPools,
  type UpstreamRequestEvent,
} from "../src/index.js";
import { delay, send, startRawOrigin, waitFor } from "./helpers.js";

const get = (origin: string) => ({
  origin,
  method: "GET",
  path: "/k",
  headers: [["host", "store"]] as Array<[string, string]>,
  body: null,
});

/** Collects `osp:upstream:request` events for the length of a test. */
function recordEvents(t: { after: (fn: () => void) => void }): UpstreamRequestEvent[] {
  const events: UpstreamRequestEvent[] = [];
  const listener = (e: unknown) => events.push(e as UpstreamRequestEvent);
  diagnosticsChannel.subscribe(UPSTREAM_REQUEST_CHANNEL, listener);
  t.after(() => diagnosticsChannel.unsubscribe(UPSTREAM_REQUEST_CHANNEL, listener));
  return events;
}

test("fails a request queued behind the connection limit past queueTimeoutMs with a retryable 503", async (t) => {
  const origin = await startRawOrigin(false, (socket, _req, index) => {
    if (index > 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); // the first never answers
  });
  const pools = new UpstreamPools({ connections: 1, queueTimeoutMs: 50 });
  t.after(async () => {
    await pools.destroy();
    await origin.close();
  });
  const events = recordEvents(t);
  const first = send(pools, get(origin.origin));
  const queued = await send(pools, get(origin.origin)).done;
  assert.equal(queued.error?.code, "ServiceUnavailable");
  assert.equal(queued.error?.source, "upstream");
  assert.equal(queued.error?.retryable, true);
  assert.equal(origin.requests(), 1, "the queued request never went out");
  assert.deepEqual(
    events.map((e) => [e.outcome, e.timeout]),
    [["error", "queue"]],
  );
  first.call.abort();
});

test("fails a response paused past pausedTimeoutMs with RequestTimeout and closes its connection", async (t) => {
  const body = Buffer.alloc(4 * 1024 * 1024, "b");
  const origin = await startRawOrigin(false, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  const pools = new UpstreamPools({ pausedTimeoutMs: 50 });
  t.after(async () => {
    await pools.destroy();
    await origin.close();
  });
  const events = recordEvents(t);
  const outcome = await send(pools, get(origin.origin), { onData: () => false }).done;
  assert.equal(outcome.error?.code, "RequestTimeout");
  assert.equal(outcome.error?.source, "downstream");
  assert.ok(outcome.body.length < body.length, "the body cannot have been delivered while paused");
  assert.deepEqual(
    events.map((e) => [e.outcome, e.timeout]),
    [["error", "paused"]],
  );
  // The connection is gone: the next request opens another.
  const next = await send(pools, get(origin.origin)).done;
  assert.equal(next.error, null);
  assert.equal(origin.connections(), 2);
});

test("keeps a response paused and resumed within pausedTimeoutMs, however often", async (t) => {
  const body = Buffer.alloc(2 * 1024 * 1024, "r");
  const origin = await startRawOrigin(false, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
  const pools = new UpstreamPools({ pausedTimeoutMs: 200 });
  t.after(async () => {
    await pools.destroy();
    await origin.close();
  });
  const outcome = await send(pools, get(origin.origin), {
    onData: (_chunk, call) => {
      setTimeout(() => call.resume(), 5);
      return false;
    },
  }).done;
  assert.equal(outcome.error, null);
  assert.ok(outcome.body.equals(body));
});

/** A handler that records every callback, for checking that none comes after `discard()`. */
function recordingHandler(calls: string[]): ResponseHandler {
  return {
    onHeaders: (status) => calls.push(`headers ${status}`),
    onData: () => {
      calls.push("data");
      return true;
    },
    onComplete: () => calls.push("complete"),
    onError: (err: S3Error) => calls.push(`error ${err.code}`),
  };
}

for (const [what, bodyBytes, paused] of [
  ["a short refusal", 120, false],
  ["a refusal paused before it was discarded", 40 * 1024, true],
] as const) {
  test(`discards ${what} and gives its connection back to the pool`, async (t) => {
    const refusal = Buffer.alloc(bodyBytes, "x");
    const origin = await startRawOrigin(false, (socket, _req, index) => {
      if (index === 0) {
        // The body in two parts: the call pauses on the first, and the second comes while it is paused.
        socket.write(`HTTP/1.1 401 Unauthorized\r\nContent-Length: ${refusal.length}\r\n\r\n`);
        socket.write(refusal.subarray(0, 100));
        setTimeout(() => socket.write(refusal.subarray(100)), 20);
      } else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const pools = new UpstreamPools();
    t.after(async () => {
      await pools.destroy();
      await origin.close();
    });
    const events = recordEvents(t);
    const calls: string[] = [];
    const handler = recordingHandler(calls);
    let discardNow: () => void = () => {};
    const call = sendUpstream(pools, get(origin.origin), {
      ...handler,
      onHeaders: (status, headers) => {
        handler.onHeaders(status, headers);
        if (!paused) call.discard();
      },
      onData: (chunk) => {
        handler.onData(chunk);
        discardNow = () => call.discard();
        return false; // paused: discard() must let it flow again
      },
    });
    if (paused) {
      await waitFor(() => calls.includes("data"));
      discardNow();
    }
    await waitFor(() => events.length === 1);
    assert.deepEqual(
      events.map((e) => [e.outcome, e.status, e.bytesReceived]),
      [["complete", 401, refusal.length]],
    );
    const retry = await send(pools, get(origin.origin)).done;
    assert.equal(retry.body.toString(), "ok");
    assert.equal(origin.connections(), 1, "the retry reused the connection");
    assert.deepEqual(calls, paused ? ["headers 401", "data"] : ["headers 401"]);
  });
}

test("closes the connection of a discarded response whose body is longer than the bound", async (t) => {
  const origin = await startRawOrigin(false, (socket, _req, index) => {
    if (index === 0) socket.write(`HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\n${"y".repeat(100)}`);
    else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const pools = new UpstreamPools();
  t.after(async () => {
    await pools.destroy();
    await origin.close();
  });
  const events = recordEvents(t);
  const calls: string[] = [];
  const handler = recordingHandler(calls);
  const call = sendUpstream(pools, get(origin.origin), {
    ...handler,
    onHeaders: (status, headers) => {
      handler.onHeaders(status, headers);
      call.discard(10);
    },
  });
  await waitFor(() => events.length === 1);
  assert.equal(events[0]?.outcome, "aborted");
  const retry = await send(pools, get(origin.origin)).done;
  assert.equal(retry.body.toString(), "ok");
  assert.equal(origin.connections(), 2, "the retry needed a new connection");
  await delay(10);
  assert.deepEqual(calls, ["headers 403"]);
});

test("discard() before the response headers aborts the request", async (t) => {
  const origin = await startRawOrigin(false, () => {});
  const pools = new UpstreamPools();
  t.after(async () => {
    await pools.destroy();
    await origin.close();
  });
  const calls: string[] = [];
  const call = sendUpstream(pools, get(origin.origin), recordingHandler(calls));
  await waitFor(() => origin.requests() === 1);
  call.discard();
  call.discard();
  await delay(20);
  assert.deepEqual(calls, []);
});
