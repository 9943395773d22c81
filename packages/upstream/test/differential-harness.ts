/**
 * The two parsers of the differential test, each reduced to one outcome per input: Node's built-in llhttp (the
 * parser undici and node:http use, reached through `_http_common`: no dependency) and h1's `ResponseParser`.
 * An input is one stream from an origin, ended by EOF: the outcome is its first final response, or a refusal.
 */
import { createRequire } from "node:module";
import { ResponseParser, type ResponseSink } from "../src/h1/response-parser.js";

export type Outcome =
  | {
      readonly kind: "response";
      readonly status: number;
      /** Names lower-case, values as the parser reported them (latin1). */
      readonly headers: ReadonlyArray<readonly [string, string]>;
      readonly body: Buffer;
      /** The offset just past the response (the input's length for a body that ran to EOF). */
      readonly end: number;
      readonly keepAlive: boolean;
    }
  /** `reason`: h1's error code and message, llhttp's `HPE_*`, or "incomplete" (EOF came first). */
  | { readonly kind: "refused"; readonly reason: string };

// ---- llhttp ----

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or the error (with `code`). */
  execute(data: Buffer): number | (Error & { code: string });
  /** Nothing, or the error. */
  finish(): undefined | (Error & { code: string });
  close(): void;
  [callback: number]: unknown;
}
interface LlhttpBinding {
  new (): LlhttpParser;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}
const HTTPParser = (createRequire(import.meta.url)("_http_common") as { HTTPParser: LlhttpBinding })
  .HTTPParser;

/** llhttp's own limit on head bytes is set out of the way: the inputs here are small. */
const LLHTTP_MAX_HEADER_BYTES = 1024 * 1024;

interface LlhttpRun {
  status: number;
  headers: Array<readonly [string, string]>;
  body: Buffer[];
  keepAlive: boolean;
  /** The first final response completed inside `execute` (not at EOF). */
  completedInExecute: boolean;
  completed: boolean;
  error: string | null;
}

/** One llhttp parse of `input` (strict: no lenient flags, as node:http runs it), EOF after it when `eof`. */
function runLlhttp(input: Buffer, bodiless: boolean, eof: boolean): LlhttpRun {
  const run: LlhttpRun = {
    status: 0,
    headers: [],
    body: [],
    keepAlive: false,
    completedInExecute: false,
    completed: false,
    error: null,
  };
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, LLHTTP_MAX_HEADER_BYTES, 0);
  let flushed: string[] = [];
  let inFinal = false;
  let executing = true;
  // More than 32 fields arrive in batches before the head completes (node_http_parser.cc flushes them).
  parser[HTTPParser.kOnHeaders] = (fields: string[]) => {
    if (run.status === 0 && !inFinal) flushed = flushed.concat(fields);
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    fields: string[] | undefined,
    _method: unknown,
    _url: unknown,
    status: number,
    _reason: string,
    _upgrade: boolean,
    keepAlive: boolean,
  ) => {
    const all = fields === undefined ? flushed : flushed.concat(fields);
    flushed = [];
    if (run.completed || inFinal) return 0;
    // 1xx but 101 are interim: the final head follows (node:http does the same).
    if (status >= 100 && status < 200 && status !== 101) return 0;
    inFinal = true;
    run.status = status;
    for (let i = 0; i + 1 < all.length; i += 2) run.headers.push([all[i]!.toLowerCase(), all[i + 1]!]);
    run.keepAlive = keepAlive;
    return bodiless ? 1 : 0; // 1: no body, as node:http answers for HEAD
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    if (inFinal && !run.completed) run.body.push(Buffer.from(chunk));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (!inFinal || run.completed) return;
    run.completed = true;
    run.completedInExecute = executing;
  };
  const executed = parser.execute(input);
  executing = false;
  if (executed instanceof Error) run.error = executed.code;
  else if (eof) {
    const finished = parser.finish();
    if (finished instanceof Error) run.error = finished.code;
  }
  parser.close();
  return run;
}

/**
 * llhttp's outcome for `input`. `endHint` (h1's end offset, when h1 found a response) is checked first: llhttp
 * agrees when the response completes within `endHint` bytes and not within one byte fewer; otherwise its own end
 * is found by bisection (completion within a prefix is monotonic).
 */
export function parseWithLlhttp(input: Buffer, bodiless: boolean, endHint: number): Outcome {
  const run = runLlhttp(input, bodiless, true);
  if (!run.completed) return { kind: "refused", reason: run.error ?? "incomplete" };
  let end = input.length;
  if (run.completedInExecute) {
    const completesWithin = (n: number) =>
      runLlhttp(input.subarray(0, n), bodiless, false).completedInExecute;
    if (endHint > 0 && endHint <= input.length && completesWithin(endHint) && !completesWithin(endHint - 1)) {
      end = endHint;
    } else {
      let lo = 1; // completes within `hi` bytes, not within `lo - 1`
      let hi = input.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (completesWithin(mid)) hi = mid;
        else lo = mid + 1;
      }
      end = hi;
    }
  }
  return {
    kind: "response",
    status: run.status,
    headers: run.headers,
    body: Buffer.concat(run.body),
    end,
    keepAlive: run.keepAlive,
  };
}

// ---- h1 ----

class OutcomeSink implements ResponseSink {
  status = 0;
  headers: ReadonlyArray<readonly [string, string]> = [];
  body: Buffer[] = [];
  keepAlive: boolean | null = null;

  onHead(status: number, headers: Array<readonly [string, string]>): void {
    this.status = status;
    this.headers = headers;
  }

  onBody(chunk: Buffer): void {
    // Copied: the chunk is a view of a read buffer that the next read overwrites.
    this.body.push(Buffer.from(chunk));
  }

  onComplete(keepAlive: boolean): void {
    this.keepAlive = keepAlive;
  }
}

/** Where the pieces of one read land: one buffer reused for every read, junk around the bytes, as a socket. */
const PAD = 3;
let readBuffer = Buffer.alloc(0);

/**
 * h1's outcome for `input` delivered in reads of the given sizes (`readSizes` empty: one read), then EOF. Each
 * read goes through one reused buffer, refilled with junk first: a parser that kept a view of an earlier read
 * or looked outside the bytes it was given would show it here.
 */
export function parseWithH1(
  input: Buffer,
  bodiless: boolean,
  maxHeadBytes: number,
  readSizes: readonly number[] = [],
): Outcome {
  const sink = new OutcomeSink();
  const parser = new ResponseParser(sink, maxHeadBytes);
  parser.expect(bodiless);
  let at = 0;
  let end = -1;
  try {
    for (let i = 0; at < input.length && end < 0; i++) {
      const size = Math.min(
        readSizes.length === 0 ? input.length : (readSizes[i % readSizes.length] ?? 1),
        input.length - at,
      );
      if (readBuffer.length < size + 2 * PAD) readBuffer = Buffer.alloc(size + 2 * PAD);
      readBuffer.fill(0x0a); // LF: a parser reading junk would see line ends everywhere
      input.copy(readBuffer, PAD, at, at + size);
      const stopped = parser.execute(readBuffer, PAD, PAD + size);
      if (sink.keepAlive !== null) end = at + (stopped - PAD);
      at += size;
    }
    if (end < 0) {
      parser.finish();
      end = input.length;
    }
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    return { kind: "refused", reason: code === undefined ? String(err) : `${code}: ${message}` };
  }
  return {
    kind: "response",
    status: sink.status,
    headers: sink.headers,
    body: Buffer.concat(sink.body),
    end,
    keepAlive: sink.keepAlive ?? false,
  };
}

/** A readable one-line rendering of an outcome, for failure messages. */
export function describeOutcome(o: Outcome): string {
  if (o.kind === "refused") return `refused (${o.reason})`;
  return JSON.stringify({
    status: o.status,
    headers: o.headers,
    body: o.body.toString("latin1"),
    end: o.end,
    keepAlive: o.keepAlive,
  });
}

/** Same status, headers, body bytes, end and keep-alive, or both refused (for whatever reason). */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind === "refused" || b.kind === "refused") return a.kind === b.kind;
  return (
    a.status === b.status &&
    a.end === b.end &&
    a.keepAlive === b.keepAlive &&
    a.body.equals(b.body) &&
    a.headers.length === b.headers.length &&
    a.headers.every(([n, v], i) => b.headers[i]![0] === n && b.headers[i]![1] === v)
  );
}
