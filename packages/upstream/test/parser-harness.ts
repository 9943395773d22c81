/** Feeding and recording helpers shared by the response parser tests. */
import assert from "node:assert/strict";
import { type ResponseParser, type ResponseSink, UpstreamProtocolError } from "../src/h1/response-parser.js";

export type Header = readonly [string, string];
export type ErrorCode = UpstreamProtocolError["code"];

export const MAX_HEAD_BYTES = 16 * 1024;

/** The bytes of a string written with JS escapes, one byte per character ("\xe9" is the byte 0xE9). */
export function bytes(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

export interface Recorded {
  status: number;
  headers: Header[];
  parts: Buffer[];
  keepAlive: boolean | null;
}

/** Records every sink call. Body slices are copied at once: they view a read buffer that is reused. */
export class Recorder implements ResponseSink {
  readonly responses: Recorded[] = [];
  readonly calls: string[] = [];
  emptySlices = 0;

  onHead(status: number, headers: Array<readonly [string, string]>): void {
    this.calls.push("head");
    this.responses.push({ status, headers, parts: [], keepAlive: null });
  }

  onBody(chunk: Buffer): void {
    this.calls.push("body");
    if (chunk.length === 0) this.emptySlices++;
    const current = this.responses.at(-1);
    assert.ok(current, "onBody came before onHead");
    current.parts.push(Buffer.from(chunk));
  }

  onComplete(keepAlive: boolean): void {
    this.calls.push("complete");
    const current = this.responses.at(-1);
    assert.ok(current, "onComplete came before onHead");
    current.keepAlive = keepAlive;
  }

  get completions(): number {
    return this.calls.filter((c) => c === "complete").length;
  }

  summary(): Array<{ status: number; headers: Header[]; body: string; keepAlive: boolean | null }> {
    return this.responses.map((r) => ({
      status: r.status,
      headers: r.headers,
      body: Buffer.concat(r.parts).toString("latin1"),
      keepAlive: r.keepAlive,
    }));
  }
}

/** Junk around each read: a parser that looked outside `[start, end)` would trip over it. */
export const PAD = 4;
export const JUNK = 0x5a; // "Z"

/** Feeds each piece through one reused read buffer, at a non-zero offset, as a socket loop would. */
export function feed(parser: ResponseParser, pieces: readonly Buffer[]): void {
  let longest = 0;
  for (const piece of pieces) longest = Math.max(longest, piece.length);
  const read = Buffer.alloc(PAD + longest + PAD);
  for (const piece of pieces) {
    read.fill(JUNK);
    piece.copy(read, PAD);
    const end = PAD + piece.length;
    assert.equal(parser.execute(read, PAD, end), end, "execute stopped before the end of a read");
  }
}

/**
 * Drives the parser as a pipelining client does: when a response is done and bytes remain, expect() the next
 * one (`bodiless` says which are HEAD) and parse on from where execute stopped.
 */
export function feedPipelined(
  parser: ResponseParser,
  pieces: readonly Buffer[],
  bodiless: readonly boolean[],
): void {
  let next = 0;
  for (const piece of pieces) {
    let at = 0;
    while (at < piece.length) {
      if (!parser.busy) {
        const flag = bodiless[next++];
        assert.ok(flag !== undefined, "bytes arrived after the last expected response");
        parser.expect(flag);
      }
      const stoppedAt = parser.execute(piece, at, piece.length);
      assert.ok(stoppedAt > at, "execute made no progress");
      at = stoppedAt;
    }
  }
}

export function splitAt(input: Buffer, points: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(input.subarray(from, p));
    from = p;
  }
  pieces.push(input.subarray(from));
  return pieces;
}

export function byteByByte(input: Buffer): Buffer[] {
  return splitAt(
    input,
    Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => i + 1),
  );
}

/** Whole, split once at every point (empty first or last piece included), and one byte per read. */
export function waysToFeed(
  input: Buffer,
  { pairs = false } = {},
): Array<{ label: string; pieces: Buffer[] }> {
  const ways = [{ label: "whole", pieces: [input] }];
  for (let i = 0; i <= input.length; i++) ways.push({ label: `split at ${i}`, pieces: splitAt(input, [i]) });
  if (pairs) {
    for (let i = 1; i < input.length; i++) {
      for (let j = i + 1; j < input.length; j++) {
        ways.push({ label: `split at ${i} and ${j}`, pieces: splitAt(input, [i, j]) });
      }
    }
  }
  ways.push({ label: "byte by byte", pieces: byteByByte(input) });
  return ways;
}

export function errorFrom(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

export function assertProtocolError(err: unknown, code: ErrorCode, label: string): void {
  assert.ok(
    err instanceof UpstreamProtocolError,
    `${label}: expected an UpstreamProtocolError, got ${String(err)}`,
  );
  assert.equal(err.code, code, `${label}: ${err.message}`);
}

/** mulberry32: a small seeded PRNG, so a failing random case can be replayed. */
export function seededRandom(seed: number): (lo: number, hi: number) => number {
  let a = seed >>> 0;
  return (lo, hi) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + Math.floor(unit * (hi - lo + 1));
  };
}

/** A complete 204 head of exactly `length` bytes. */
export function headOfLength(length: number): string {
  const bare = "HTTP/1.1 204 No Content\r\nX-Pad: \r\n\r\n";
  return `HTTP/1.1 204 No Content\r\nX-Pad: ${"p".repeat(length - bare.length)}\r\n\r\n`;
}

export interface ValidCase {
  what: string;
  wire: Buffer;
  /** The request was HEAD. */
  bodiless?: boolean;
  /** The body runs to EOF: onComplete comes from finish(), not from execute(). */
  closeDelimited?: boolean;
  expected: { status: number; headers: Header[]; body: string; keepAlive: boolean };
}

export const OK = "HTTP/1.1 200 OK\r\n";

export const CHUNKED_HEAD = `${OK}Transfer-Encoding: chunked\r\n\r\n`;

export const contentLength: ValidCase = {
  what: "a Content-Length body",
  wire: bytes(`${OK}Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`),
  expected: {
    status: 200,
    headers: [
      ["content-type", "text/plain"],
      ["content-length", "11"],
    ],
    body: "hello world",
    keepAlive: true,
  },
};

export const chunked: ValidCase = {
  what: "a chunked body with chunk extensions and trailers",
  wire: bytes(
    `${OK}Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n` +
      "5;name=value\r\nhello\r\n" +
      '1A;ext1;ext2="quo\\"ted";e3=t\r\nabcdefghijklmnopqrstuvwxyz\r\n' +
      "1\r\n!\r\n" +
      "0;last=1\r\nX-Checksum: abc\r\nX-Other: def\r\n\r\n",
  ),
  expected: {
    status: 200,
    headers: [
      ["transfer-encoding", "chunked"],
      ["content-type", "application/octet-stream"],
    ],
    body: "helloabcdefghijklmnopqrstuvwxyz!",
    keepAlive: true,
  },
};

export const closeDelimited: ValidCase = {
  what: "a body delimited by the end of the connection",
  wire: bytes(`${OK}Content-Type: text/plain\r\n\r\nread until EOF\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n`),
  closeDelimited: true,
  expected: {
    status: 200,
    headers: [["content-type", "text/plain"]],
    body: "read until EOF\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n",
    keepAlive: false,
  },
};

export const continueThen200: ValidCase = {
  what: "a 100 Continue head followed by the final 200",
  wire: bytes(`HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`),
  expected: { status: 200, headers: [["content-length", "2"]], body: "ok", keepAlive: true },
};
