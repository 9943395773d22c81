import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { type AccessLine, createLogger, writeAccessLine } from "../src/index.js";

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { stream, lines };
}

const line: AccessLine = {
  requestId: "req-1",
  method: "GET",
  operation: "GetObject",
  bucket: 'a"b\\c\u0001é',
  principal: null,
  status: 200,
  error: null,
  bytesIn: 0,
  bytesOut: 1024,
  durationMs: 0.412,
  upstreamMs: 0.215,
  remote: "::1",
};

test("writes the line logger.info wrote for the same fields, field for field and byte for byte", async () => {
  const fast = sink();
  const slow = sink();
  const base = { name: "osp", base: { slot: 3 } };
  writeAccessLine(createLogger({ level: "info", ...base }, fast.stream), line);
  createLogger({ level: "info", ...base }, slow.stream).info({ ...line }, "request");
  await new Promise((r) => setImmediate(r));
  assert.equal(fast.lines.length, 1);
  const time = /"time":"[^"]+"/;
  assert.equal(fast.lines[0]?.replace(time, ""), slow.lines[0]?.replace(time, ""));
  const parsed = JSON.parse(fast.lines[0] ?? "") as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [
    "level",
    "time",
    "pid",
    "name",
    "slot",
    "requestId",
    "method",
    "operation",
    "bucket",
    "principal",
    "status",
    "error",
    "bytesIn",
    "bytesOut",
    "durationMs",
    "upstreamMs",
    "remote",
    "msg",
  ]);
  assert.equal(parsed.bucket, line.bucket);
  assert.ok(!Number.isNaN(Date.parse(String(parsed.time))));
});

test("writes nothing when the logger's level is above info, and follows a level changed later", async () => {
  const out = sink();
  const log = createLogger({ level: "warn" }, out.stream);
  writeAccessLine(log, line);
  log.level = "info";
  writeAccessLine(log, line);
  log.level = "silent";
  writeAccessLine(log, line);
  await new Promise((r) => setImmediate(r));
  assert.equal(out.lines.length, 1);
});
