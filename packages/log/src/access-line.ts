/**
 * The access log: one JSON line per request, written straight to the logger's destination. Its fields are
 * fixed and none can hold a secret (ids, names, codes, counts, timings, the peer address; never a header,
 * query string or key), so it skips pino's object walk and the redaction pass: ~1 µs a line where
 * `logger.info(fields)` cost ~25. The line is the one pino wrote, field for field: level, time,
 * the logger's bindings (pid, name, slot), the request's fields, `"msg":"request"`.
 */
import { type Logger, symbols } from "pino";

/** One request's access line; written in this order, under these names (operators parse them). */
export interface AccessLine {
  readonly requestId: string;
  readonly method: string;
  readonly operation: string;
  readonly bucket: string | null;
  readonly principal: string | null;
  readonly status: number;
  readonly error: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly upstreamMs: number;
  readonly remote: string;
}

/** `,"pid":1,"name":"osp",…`: the base fields and child bindings, serialised once by pino. */
const BINDINGS: unique symbol = symbols.chindingsSym as never;
const STREAM: unique symbol = symbols.streamSym as never;
interface PinoInternals {
  [BINDINGS]: string;
  [STREAM]: { write(line: string): void };
}

/** pino's info level. */
const INFO = 30;

// Lines of the same millisecond share their time text (toISOString is the dearest part of the line).
let lastMs = -1;
let lastTime = "";

/**
 * Writes `line` at level info through `log` (nothing when the level is above info, as `log.info` would).
 * `log` is one of createLogger's loggers: its level label and ISO time are the format written here.
 */
export function writeAccessLine(log: Logger, line: AccessLine): void {
  if (log.levelVal > INFO) return;
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = new Date(now).toISOString();
  }
  const internals = log as unknown as PinoInternals;
  internals[STREAM].write(
    `{"level":"info","time":"${lastTime}"${internals[BINDINGS]}` +
      `,"requestId":${text(line.requestId)},"method":${text(line.method)}` +
      `,"operation":${text(line.operation)},"bucket":${nullableText(line.bucket)}` +
      `,"principal":${nullableText(line.principal)},"status":${number(line.status)}` +
      `,"error":${nullableText(line.error)},"bytesIn":${number(line.bytesIn)}` +
      `,"bytesOut":${number(line.bytesOut)},"durationMs":${number(line.durationMs)}` +
      `,"upstreamMs":${number(line.upstreamMs)},"remote":${text(line.remote)},"msg":"request"}\n`,
  );
}

/** JSON string text: the escaping pino uses (a client chooses the method and bucket name). */
const text = (s: string): string => JSON.stringify(s);
const nullableText = (s: string | null): string => (s === null ? "null" : JSON.stringify(s));
/** As pino writes numbers: a non-finite one is `null`. */
const number = (n: number): string => (Number.isFinite(n) ? String(n) : "null");
