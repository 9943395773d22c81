/**
 * The logger of a primary or worker process in serve mode, and how to flush it before the process exits.
 * Every process of the cluster writes JSON lines to the same stdout; pino writes each line with one
 * write(2), which a pipe keeps whole (lines stay under PIPE_BUF).
 */
import { createLogger, type Logger, type LogLevel } from "@osp/log";

export interface ProcessLogger {
  readonly log: Logger;
  /** Writes out what is buffered; call before `process.exit`. */
  flush(): Promise<void>;
}

export function createProcessLogger(level: LogLevel, base: Record<string, unknown>): ProcessLogger {
  const log = createLogger({ level, name: "osp", base });
  return {
    log,
    flush: () => new Promise<void>((resolve) => log.flush(() => resolve())),
  };
}
