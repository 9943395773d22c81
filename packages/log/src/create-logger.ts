/**
 * The one place osp creates loggers. Secrets never reach a log line at any level: the redaction list
 * below covers every field where one could appear (DESIGN.md "Logs"), and callers log request facts,
 * never raw headers or query strings.
 */
import { type DestinationStream, destination, type Logger, pino } from "pino";

export type { Logger };
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Field paths censored wherever they appear (pino `redact`). */
export const REDACTED_PATHS: readonly string[] = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "headers['x-amz-security-token']",
  "secretAccessKey",
  "*.secretAccessKey",
  "apiKey",
  "*.apiKey",
  "*.*.apiKey",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "signature",
  "*.signature",
  "signingKey",
  "*.signingKey",
  "query",
  "*.query",
];

/** Creates the process logger (JSON lines on stdout, or on `destination` for tests). */
export function createLogger(
  options: { level: LogLevel; name?: string; base?: Record<string, unknown> },
  destination?: DestinationStream,
): Logger {
  const config = {
    level: options.level,
    base: {
      pid: process.pid,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...options.base,
    },
    redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(config) : pino(config, destination);
}

/**
 * pino's asynchronous stdout (sonic-boom, `sync: false`): a request never waits on a log write. `maxWrite`
 * 4096 = PIPE_BUF, so each write(2) holds whole lines only and the cluster's processes never interleave on
 * one stdout pipe. Flush with `logger.flush(cb)` before exiting.
 */
export function createAsyncDestination(fd = 1): DestinationStream {
  return destination({ dest: fd, sync: false, maxWrite: 4096 });
}
