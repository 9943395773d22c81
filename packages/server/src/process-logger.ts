/**
 * The logger of a primary or worker process in serve mode, and how to flush it before the process exits.
 * Every process of the cluster writes JSON lines to the same stdout through a line writer (@osp/log): whole
 * lines, in batches no larger than PIPE_BUF, which a pipe keeps whole, written from the main thread.
 */
import { createLineWriter, createLogger, type Logger, type LogLevel } from "@osp/log";

export interface ProcessLogger {
  readonly log: Logger;
  /** Writes out what is buffered; call before `process.exit` (the writer also flushes on `exit`). */
  flush(): Promise<void>;
}

export function createProcessLogger(level: LogLevel, base: Record<string, unknown>): ProcessLogger {
  const log = createLogger({ level, name: "osp", base }, createLineWriter());
  return {
    log,
    flush: () => new Promise<void>((resolve) => log.flush(() => resolve())),
  };
}
