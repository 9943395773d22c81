/**
 * A complexity guard for the response parser: a hostile 64 KiB head (long blank runs, thousands of tiny
 * headers, one byte per read) must cost no more than a small multiple of an ordinary 64 KiB head. Costs are
 * compared within one run (best of several rounds), never against a wall-clock limit: a quadratic step shows as
 * a ratio in the hundreds (a 64,000-blank value took 3.3 s before; an ordinary head takes well under 1 ms).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseParser, type ResponseSink } from "../src/h1/response-parser.js";

const HEAD_BYTES = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const ROUNDS = 7;

const sink: ResponseSink = { onHead() {}, onBody() {}, onComplete() {} };

/** A head of exactly `HEAD_BYTES`: the status line, then `fill`'s lines, padded by one last header. */
function headOf(lines: string[]): Buffer {
  const start = "HTTP/1.1 200 OK\r\n";
  const end = "Content-Length: 0\r\n\r\n";
  let text = start + lines.join("");
  const pad = HEAD_BYTES - text.length - end.length - "X-Pad: \r\n".length;
  assert.ok(pad >= 0, "the lines are longer than the head");
  text += `X-Pad: ${"p".repeat(pad)}\r\n${end}`;
  assert.equal(text.length, HEAD_BYTES);
  return Buffer.from(text, "latin1");
}

/** An ordinary head: S3-sized metadata headers of about 100 bytes each. */
const ordinary = headOf(
  Array.from(
    { length: 600 },
    (_, i) => `X-Amz-Meta-Field-${i}: ${"v".repeat(70)}${String(i).padStart(4, "0")}\r\n`,
  ),
);
const hostile: Record<string, Buffer> = {
  "a value of 64,000 blanks": headOf([`X-Blank: ${" ".repeat(64_000)}\r\n`]),
  "a value of blanks with one byte in the middle": headOf([
    `X-Blank: ${" ".repeat(32_000)}x${"\t".repeat(31_000)}\r\n`,
  ]),
  "16,000 tiny headers": headOf(Array.from({ length: 16_000 }, () => "a:\r\n")),
  "600 values padded with 50 blanks each side": headOf(
    Array.from({ length: 600 }, () => `X: ${" ".repeat(50)}v${" ".repeat(50)}\r\n`),
  ),
};

/** CPU microseconds to parse `head` delivered in reads of `readBytes`, best of `ROUNDS`. */
function cost(head: Buffer, readBytes: number): number {
  const read = Buffer.alloc(readBytes);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const parser = new ResponseParser(sink, MAX_HEAD_BYTES);
    parser.expect(false);
    const before = process.cpuUsage();
    for (let at = 0; at < head.length; at += readBytes) {
      const n = Math.min(readBytes, head.length - at);
      if (n === 1) read[0] = head[at]!;
      else head.copy(read, 0, at, at + n);
      parser.execute(read, 0, n);
    }
    const used = process.cpuUsage(before);
    assert.equal(parser.busy, false, "the head did not complete");
    best = Math.min(best, used.user + used.system);
  }
  return Math.max(best, 1);
}

test("parses a hostile 64 KiB head at a small multiple of the cost of an ordinary one", (t) => {
  cost(ordinary, HEAD_BYTES); // warm-up: compiled code for both sides
  const whole = cost(ordinary, HEAD_BYTES);
  for (const [what, head] of Object.entries(hostile)) {
    cost(head, HEAD_BYTES);
    const hostileCost = cost(head, HEAD_BYTES);
    t.diagnostic(`${what}: ${hostileCost} µs against ${whole} µs`);
    assert.ok(hostileCost < 10 * whole + 2000, `${what}: ${hostileCost} µs, an ordinary head ${whole} µs`);
  }
});

test("parses a 64 KiB head arriving a byte at a time at a small multiple of the cost of one read", (t) => {
  // One execute() per byte has a fixed cost of its own (~100 ns): a linear parser pays 64 Ki of those, a
  // quadratic one re-searches or re-copies what came before on every read (an earlier version of this parser
  // took 0.64 s for 64 KiB).
  cost(ordinary, 1);
  const ordinaryByByte = cost(ordinary, 1);
  const ordinaryWhole = cost(ordinary, HEAD_BYTES);
  t.diagnostic(`an ordinary head: ${ordinaryByByte} µs byte by byte, ${ordinaryWhole} µs in one read`);
  assert.ok(ordinaryByByte < 40 * ordinaryWhole + 5000, `${ordinaryByByte} µs byte by byte`);
  for (const [what, head] of Object.entries(hostile)) {
    cost(head, 1);
    const byByte = cost(head, 1);
    t.diagnostic(`${what}: ${byByte} µs byte by byte`);
    assert.ok(
      byByte < 4 * ordinaryByByte + 2000,
      `${what}: ${byByte} µs, an ordinary head ${ordinaryByByte} µs`,
    );
  }
});
