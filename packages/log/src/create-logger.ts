/**
 * The one place osp creates loggers. Secrets never reach a log line at any level: every line but the access
 * line passes through `censorSecrets` (a field named like a secret is censored at any depth, errors
 * included), and the access line (access-line.ts) has only fields that cannot hold one. Callers log request
 * facts, never raw headers or query strings (docs/operations.md "Logs").
 */
import { type DestinationStream, type Logger, pino, stdSerializers } from "pino";
import { censorSecrets } from "./censor-secrets.js";

export type { Logger };
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** pino's error serializer, then the censor: an error's own fields may hold what a request carried. */
const errorSerializer = (err: unknown) =>
  err instanceof Error ? censorSecrets(stdSerializers.err(err)) : err;

/** Creates a logger (JSON lines on stdout, or on `destination`: a line writer, or a test's sink). */
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
    serializers: { err: errorSerializer },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (object: Record<string, unknown>) => censorSecrets(object),
    },
  };
  return destination === undefined ? pino(config) : pino(config, destination);
}
