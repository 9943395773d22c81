/**
 * Faults on either side of osp: an upstream that is down, a client that goes away mid-upload or sends
 * less than it announced, and an upstream that dies mid-response. Whatever happens, no upload cut short is
 * completed upstream (radosgw keeps nothing; s3rver keeps the bytes that arrived, see assertNothingStored),
 * the client never gets a complete-looking response it did not get in full, nothing hangs, and the
 * gateway keeps serving.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { after, before, describe, type TestContext, test } from "node:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { compileConfig } from "@osp/config";
import { type GatewayRequestEvent, gatewayRequestChannel, startWorker, type Worker } from "@osp/gateway";
import { createLogger } from "@osp/log";
import { closeServer, freePort, listenOnLoopback, radosgwAvailable } from "@osp/testkit";
import { ALICE, rejectsWith, type Stack, sdkClient, signAsAlice, startStack } from "./harness.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens a raw connection to `endpoint`, sends a signed PUT head announcing `contentLength` bytes
 * (UNSIGNED-PAYLOAD) and `sent` body bytes, and resolves once they are written.
 */
async function partialPut(
  endpoint: string,
  path: string,
  contentLength: number,
  sent: number,
): Promise<{ socket: ReturnType<typeof connect>; response: Promise<string>; received: () => string }> {
  const headers = signAsAlice(
    endpoint,
    "PUT",
    path,
    [["content-length", String(contentLength)]],
    "UNSIGNED-PAYLOAD",
  ).headers;
  const head = `PUT ${path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  const url = new URL(endpoint);
  const socket = connect(Number(url.port), url.hostname);
  let received = "";
  const response = new Promise<string>((resolve) => {
    socket.on("data", (d: Buffer) => {
      received += d.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(received));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(head);
  await new Promise<void>((resolve) => socket.write(Buffer.alloc(sent, "z"), () => resolve()));
  return { socket, response, received: () => received };
}

/** Collects the gateway's PutObject request events (what its metrics and access log are built from). */
function watchPuts(): { events: GatewayRequestEvent[]; stop: () => void } {
  const events: GatewayRequestEvent[] = [];
  const listener = (message: unknown) => {
    const event = message as GatewayRequestEvent;
    if (event.operation === "PutObject") events.push(event);
  };
  gatewayRequestChannel.subscribe(listener);
  return { events, stop: () => gatewayRequestChannel.unsubscribe(listener) };
}

/**
 * Asserts the upstream holds no object `data/<key>` from an upload of `announced` bytes that was cut short.
 * radosgw, like S3, keeps nothing of a PUT whose connection closes early. s3rver keeps whatever bytes
 * arrived before the close (its own flaw: a PUT sent straight to it and cut short is stored the same way),
 * so there the check is that no complete object was stored.
 */
async function assertNothingStored(
  stack: Stack,
  upstream: "s3rver" | "radosgw",
  key: string,
  announced: number,
): Promise<void> {
  let length: number | undefined;
  try {
    length = (await stack.direct().send(new HeadObjectCommand({ Bucket: "data", Key: key }))).ContentLength;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return;
    throw err;
  }
  assert.notEqual(upstream, "radosgw", `radosgw stored ${length} bytes of an upload cut short`);
  assert.ok(length !== undefined && length < announced, `s3rver holds ${length} of ${announced} bytes`);
}

/** Resolves once the worker has finished every request (an aborted one included), or fails after 2 s. */
async function settled(worker: Worker): Promise<void> {
  const until = Date.now() + 2_000;
  while (worker.core.inFlight > 0) {
    if (Date.now() > until) assert.fail(`${worker.core.inFlight} request(s) still in flight`);
    await sleep(10);
  }
}

/** A worker whose one endpoint `remote` (HMAC auth, not checked by the tests' servers) is `url`; bucket `remote-data`. */
async function startWorkerFor(t: TestContext, url: string): Promise<{ worker: Worker; client: S3Client }> {
  const config = compileConfig(
    `
listen: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
endpoints:
  remote:
    url: ${url}
    addressing: path
    auth: { type: hmac, accessKeyId: REMOTEKEY, secretAccessKey: remote-secret }
    pool: { connectTimeout: 1s, headersTimeout: 2s, bodyTimeout: 2s }
buckets:
  remote-data: { endpoint: remote }
credentials:
  - { accessKeyId: ${ALICE.accessKeyId}, secretAccessKey: ${ALICE.secretAccessKey}, principal: alice }
authorization:
  rules:
    - { principal: alice, buckets: [remote-data], actions: ["*"] }
`,
    "faults-e2e",
    {},
  );
  const worker = await startWorker(config, { log: createLogger({ level: "silent" }) });
  const client = sdkClient(`http://127.0.0.1:${worker.port}`);
  t.after(async () => {
    client.destroy();
    await worker.close(2_000);
  });
  return { worker, client };
}

/** A signed GET through osp, read to the end or to the connection's loss. */
function rawGet(
  endpoint: string,
  path: string,
): Promise<{ status: number; declaredLength: number | null; received: number; completed: boolean }> {
  const headers = signAsAlice(endpoint, "GET", path, [], "UNSIGNED-PAYLOAD").headers;
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: "GET",
        path,
        headers: Object.fromEntries(headers),
        agent: false,
      },
      (res) => {
        let received = 0;
        let completed = false;
        const length = res.headers["content-length"];
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
        });
        res.on("end", () => {
          completed = true;
        });
        res.on("error", () => {});
        res.on("close", () =>
          resolve({
            status: res.statusCode ?? 0,
            declaredLength: length === undefined ? null : Number(length),
            received,
            completed,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("an upstream that is down", () => {
  test("GET and PUT get 503 ServiceUnavailable quickly, and nothing stays in flight", async (t) => {
    const closedPort = await freePort();
    const { worker, client } = await startWorkerFor(t, `http://127.0.0.1:${closedPort}`);
    const started = Date.now();
    await rejectsWith(
      client.send(new GetObjectCommand({ Bucket: "remote-data", Key: "k" })),
      "ServiceUnavailable",
      503,
    );
    await rejectsWith(
      client.send(
        new PutObjectCommand({ Bucket: "remote-data", Key: "k", Body: Buffer.alloc(256 * 1024, "p") }),
      ),
      "ServiceUnavailable",
      503,
    );
    // A refused connection is not waited out: below the 5 s connect timeout, on however loaded a machine.
    assert.ok(Date.now() - started < 4_000, `took ${Date.now() - started} ms`);
    await settled(worker);
  });
});

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`a client that fails mid-upload, through osp to ${upstream}`, { skip }, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ upstream });
    });
    after(async () => {
      await stack.close();
    });

    test("a client that disconnects half-way through an 8 MiB upload leaves nothing stored", async () => {
      const total = 8 * 1024 * 1024;
      const puts = watchPuts();
      const { socket } = await partialPut(stack.endpoint, "/data/aborted-upload", total, total / 2);
      await sleep(100); // let the first half travel on towards the upstream
      socket.destroy();
      await settled(stack.worker);
      puts.stop();
      await sleep(200);
      await assertNothingStored(stack, upstream, "aborted-upload", total);
      // Recorded as the client's doing (no status sent), not as a gateway error.
      assert.deepEqual(
        puts.events.map((e) => [e.status, e.errorCode]),
        [[0, "ClientAborted"]],
      );

      // The gateway still serves, and the same key can be written in full.
      const client = stack.client();
      await client.send(new PutObjectCommand({ Bucket: "data", Key: "aborted-upload", Body: "complete" }));
      const got = await client.send(new GetObjectCommand({ Bucket: "data", Key: "aborted-upload" }));
      assert.equal(await got.Body!.transformToString(), "complete");
    });

    test("a body shorter than its Content-Length (then half-close) is never stored or acknowledged", async () => {
      const total = 1024 * 1024;
      const { socket, response } = await partialPut(
        stack.endpoint,
        "/data/truncated-upload",
        total,
        total / 2,
      );
      await sleep(100);
      socket.end(); // half-close: no more bytes will come
      const answer = await Promise.race([response, sleep(3_000).then(() => "(no answer within 3 s)")]);
      socket.destroy();
      assert.doesNotMatch(answer, /^HTTP\/1\.1 2\d\d/, "the truncated upload was acknowledged");
      assert.notEqual(answer, "(no answer within 3 s)", "the gateway neither answered nor closed");
      await settled(stack.worker);
      await sleep(200);
      await assertNothingStored(stack, upstream, "truncated-upload", total);

      const client = stack.client();
      await client.send(new PutObjectCommand({ Bucket: "data", Key: "after-truncation", Body: "fine" }));
      const got = await client.send(new GetObjectCommand({ Bucket: "data", Key: "after-truncation" }));
      assert.equal(await got.Body!.transformToString(), "fine");
    });
  });
}

describe("a client whose upload stalls", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "limits: { idleTimeout: 300ms }" });
  });
  after(async () => {
    await stack.close();
  });

  test("gets one 400 RequestTimeout once the body is idle too long, and nothing is stored", async () => {
    const total = 1024 * 1024;
    const puts = watchPuts();
    const { socket, response, received } = await partialPut(
      stack.endpoint,
      "/data/stalled-upload",
      total,
      total / 2,
    );
    const until = Date.now() + 3_000;
    while (!received().includes("</Error>") && Date.now() < until) await sleep(20);
    await sleep(100); // anything written after the first answer arrives too
    socket.destroy();
    const answer = await response;
    await settled(stack.worker);
    puts.stop();
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /<Code>RequestTimeout<\/Code>/);
    assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, `more than one response: ${answer}`);
    assert.equal(puts.events.length, 1);
    const event = puts.events[0]!;
    assert.equal(event.status, 400);
    assert.equal(event.errorCode, "RequestTimeout");
    const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
    assert.equal(event.bytesOut, Buffer.byteLength(body), "bytes sent to the client, counted once");
    await sleep(200);
    await assertNothingStored(stack, "s3rver", "stalled-upload", total);
  });
});

describe("an upstream that resets mid-response", () => {
  const DECLARED = 100_000;
  const SENT = 40_000;
  let upstreamUrl: string;
  let closeUpstream: () => Promise<void>;

  /** GET /remote-data/<key>: `full`, `truncated` (Content-Length), `chunked-truncated`, `reset` (no headers). */
  function answer(req: IncomingMessage, res: ServerResponse): void {
    const key = (req.url ?? "").split("?")[0]!.replace(/^\/remote-data\//, "");
    const cut = () => res.socket?.destroy();
    if (key === "full") {
      res.writeHead(200, { "content-length": DECLARED, "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(DECLARED, "f"));
    } else if (key === "truncated") {
      res.writeHead(200, { "content-length": DECLARED, "content-type": "application/octet-stream" });
      res.write(Buffer.alloc(SENT, "t"), () => setTimeout(cut, 20));
    } else if (key === "chunked-truncated") {
      res.writeHead(200, { "content-type": "application/octet-stream" }); // chunked
      res.write(Buffer.alloc(SENT, "c"), () => setTimeout(cut, 20));
    } else if (key === "reset") {
      cut();
    } else {
      res.writeHead(404, { "content-length": 0 });
      res.end();
    }
  }

  before(async () => {
    const server = createServer(answer);
    upstreamUrl = `http://127.0.0.1:${await listenOnLoopback(server)}`;
    closeUpstream = () => closeServer(server);
  });
  after(async () => {
    await closeUpstream();
  });

  test("a complete response passes through whole (control)", async (t) => {
    const { worker } = await startWorkerFor(t, upstreamUrl);
    const res = await rawGet(`http://127.0.0.1:${worker.port}`, "/remote-data/full");
    assert.deepEqual(res, { status: 200, declaredLength: DECLARED, received: DECLARED, completed: true });
  });

  test("a body cut short of its Content-Length reaches the client as a closed connection", async (t) => {
    const { worker, client } = await startWorkerFor(t, upstreamUrl);
    const endpoint = `http://127.0.0.1:${worker.port}`;
    const res = await rawGet(endpoint, "/remote-data/truncated");
    assert.equal(res.status, 200);
    assert.equal(res.declaredLength, DECLARED);
    assert.equal(res.completed, false, "the truncated body looked complete");
    assert.ok(res.received < DECLARED, `received ${res.received} of ${DECLARED}`);

    const got = await client.send(new GetObjectCommand({ Bucket: "remote-data", Key: "truncated" }));
    await assert.rejects(got.Body!.transformToByteArray());
    await settled(worker);
  });

  test("a chunked body cut short never gets its terminating chunk", async (t) => {
    const { worker } = await startWorkerFor(t, upstreamUrl);
    const res = await rawGet(`http://127.0.0.1:${worker.port}`, "/remote-data/chunked-truncated");
    assert.equal(res.status, 200);
    assert.equal(res.completed, false, "the truncated body looked complete");
    assert.ok(res.received <= SENT, `received ${res.received}, upstream sent ${SENT}`);
    await settled(worker);
  });

  test("a connection reset before any header gives 503 ServiceUnavailable", async (t) => {
    const { worker, client } = await startWorkerFor(t, upstreamUrl);
    await rejectsWith(
      client.send(new GetObjectCommand({ Bucket: "remote-data", Key: "reset" })),
      "ServiceUnavailable",
      503,
    );
    const res = await rawGet(`http://127.0.0.1:${worker.port}`, "/remote-data/full");
    assert.equal(res.completed, true, "the gateway serves the next request");
    await settled(worker);
  });
});

describe("limits.idleTimeout and limits.requestTimeout", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "limits: { idleTimeout: 300ms, requestTimeout: 1500ms }" });
  });
  after(async () => {
    await stack.close();
  });

  test("a body that stops arriving gets 400 RequestTimeout after the idle limit, and nothing is stored", async () => {
    const started = Date.now();
    const { socket, response } = await partialPut(stack.endpoint, "/data/idle-timeout", 1000, 400);
    const timer = setTimeout(() => socket.destroy(), 10_000);
    const answer = await Promise.race([
      response,
      new Promise<string>((resolve) => socket.on("data", (d: Buffer) => resolve(d.toString("latin1")))),
    ]);
    clearTimeout(timer);
    socket.destroy();
    const elapsed = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /<Code>RequestTimeout<\/Code>/);
    // Not before the idle limit; before the 10 s the socket is given.
    assert.ok(elapsed >= 250 && elapsed < 10_000, `answered after ${elapsed} ms`);
    await settled(stack.worker);
    await assertNothingStored(stack, "s3rver", "idle-timeout", 1000);
  });

  test("a body that trickles in past the request limit gets RequestTimeout, though never idle", async () => {
    const started = Date.now();
    const { socket, response } = await partialPut(stack.endpoint, "/data/slow-upload", 100, 1);
    let answer = "";
    socket.on("data", (d: Buffer) => {
      answer += d.toString("latin1");
    });
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write("z");
    }, 100);
    while (answer === "" && Date.now() - started < 10_000) await sleep(20);
    clearInterval(drip);
    socket.destroy();
    await response;
    const elapsed = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /<Code>RequestTimeout<\/Code>/);
    assert.ok(elapsed >= 1_400 && elapsed < 10_000, `answered after ${elapsed} ms`);
    await settled(stack.worker);
    await assertNothingStored(stack, "s3rver", "slow-upload", 100);
  });
});

describe("limits.maxInFlight", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "limits: { maxInFlight: 1 }" });
  });
  after(async () => {
    await stack.close();
  });

  test("a request beyond the in-flight limit gets 503 SlowDown, and the worker serves again once below it", async () => {
    const held = await partialPut(stack.endpoint, "/data/held", 1000, 10);
    while (stack.worker.core.inFlight < 1) await sleep(5);
    const get = stack.client().send(new GetObjectCommand({ Bucket: "data", Key: "held" }));
    await rejectsWith(get, "SlowDown", 503);
    held.socket.destroy();
    await held.response;
    await settled(stack.worker);
    await stack.client().send(new PutObjectCommand({ Bucket: "data", Key: "after-slowdown", Body: "ok" }));
  });
});
