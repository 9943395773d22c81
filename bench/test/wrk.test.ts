import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { RequestSet } from "../proxy/requests.js";
import { parseWrk, runWrk, WRK, writeScript } from "../proxy/wrk.js";

const dir = mkdtempSync(join(tmpdir(), "osp-bench-wrk-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const REPORT = `Running 5s test @ http://127.0.0.1:40001/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.12ms  310.44us   9.80ms   88.12%
    Req/Sec    14.39k     1.02k   15.70k    82.00%
  Latency Distribution
     50%    1.05ms
     75%    1.20ms
     90%    1.41ms
     99%    2.33ms
  71602 requests in 5.00s, 87.26MB read
Requests/sec:  14318.64
Transfer/sec:     17.45MB
`;

test("parseWrk reads requests, duration, req/s, p50/p99 in ms and the transfer rate", () => {
  const r = parseWrk(REPORT);
  assert.equal(r.requests, 71602);
  assert.equal(r.seconds, 5);
  assert.equal(r.rps, 14318.64);
  assert.equal(r.p50ms, 1.05);
  assert.equal(r.p99ms, 2.33);
  assert.ok(Math.abs(r.readMBps - 17.45 * 2 ** 20 * 1e-6) < 1e-9);
});

test("parseWrk converts microsecond and second latencies", () => {
  const r = parseWrk(REPORT.replace("1.05ms", "850.00us").replace("2.33ms", "1.50s"));
  assert.equal(r.p50ms, 0.85);
  assert.equal(r.p99ms, 1500);
});

test("parseWrk refuses a round with error responses or socket errors", () => {
  assert.throws(() => parseWrk(`${REPORT}  Non-2xx or 3xx responses: 12\n`), /error responses/);
  assert.throws(
    () =>
      parseWrk(
        REPORT.replace(
          "Requests/sec",
          "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec",
        ),
      ),
    /socket errors/,
  );
  assert.doesNotThrow(() =>
    parseWrk(
      REPORT.replace("Requests/sec", "  Socket errors: connect 0, read 0, write 0, timeout 0\nRequests/sec"),
    ),
  );
});

test("a script of several requests makes wrk send each of them, with its headers and the body", {
  skip: existsSync(WRK) ? false : `wrk is not installed (${WRK})`,
}, async () => {
  const seen = new Map<string, number>();
  let badBody = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (Buffer.concat(chunks).toString() !== "hello body") badBody += 1;
      const key = `${req.method} ${req.url} ${req.headers["x-bench"]} ${req.headers.host}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const set: RequestSet = {
    method: "PUT",
    requests: [1, 2, 3].map((i) => ({
      path: `/b/k${i}?x=${i}`,
      headers: [
        ["Host", `example-${i}`],
        ["x-bench", `v${i} "quoted" \\ back`],
      ],
    })),
    body: Buffer.from("hello body"),
  };
  const script = writeScript(set, { threads: 2, connections: 4, seconds: 1, dir }, "cycle");
  const r = await runWrk(port, script, { threads: 2, connections: 4, seconds: 1, dir });
  server.closeAllConnections();
  server.close();
  assert.ok(r.requests > 0);
  assert.equal(badBody, 0);
  assert.deepEqual(
    [...seen.keys()].sort(),
    [1, 2, 3].map((i) => `PUT /b/k${i}?x=${i} v${i} "quoted" \\ back example-${i}`),
  );
});
