/**
 * The logger of a primary or worker process in serve mode, and how to flush it before the process exits.
 * Every process of the cluster writes JSON lines to the same stdout, asynchronously, in writes of whole
 * lines no larger than PIPE_BUF, which a pipe keeps whole.
 */
import { createAsyncDestination, createLogger, type Logger, type LogLevel } from "@osp/log";

export interface ProcessLogger {
  readonly log: Logger;
  /** Writes out what is buffered; call before `process.exit`. */
  flush(): Promise<void>;
}

export function createProcessLogger(level: LogLevel, base: Record<string, unknown>): ProcessLogger {
  const log = createLogger({ level, name: "osp", base }, createAsyncDestination());
  return {
    log,
    flush: () => new Promise<void>((resolve) => log.flush(() => resolve())),
  };
}
