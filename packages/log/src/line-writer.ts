/**
 * Where a process's log lines go: a buffer of whole lines written to a file descriptor with write(2) from
 * the main thread, in batches of at most PIPE_BUF (4096) bytes, at the latest `flushIntervalMs` after the
 * first line of a batch. It replaces pino's asynchronous sonic-boom, which handed every write to the libuv
 * thread pool (a futex wake-up and a second thread per batch, ~8 µs a line).
 *
 * - Batches of whole lines no larger than PIPE_BUF: a pipe keeps each write whole, so the cluster's
 *   processes, which share one stdout, never interleave inside a line.
 * - A pipe whose reader is slow blocks the writer, as Node's own `process.stdout` does on a pipe or file;
 *   a non-blocking descriptor that answers EAGAIN keeps the lines (up to `MAX_PENDING_BYTES`, then drops
 *   and counts them) and retries on the next flush.
 * - Flushed by `flush()` (the worker's drain, before `process.exit`) and, whatever remains, on the
 *   process's `exit` event.
 */
import { writeSync } from "node:fs";

/** Linux's PIPE_BUF: a write to a pipe up to this size is atomic. */
const BATCH_BYTES = 4096;
const BUFFER_BYTES = 64 * 1024;
/** Lines kept while the descriptor answers EAGAIN; past this, new lines are dropped (and counted). */
const MAX_PENDING_BYTES = 16 * 2 ** 20;

export interface LineWriterOptions {
  /** How long a line may wait for its batch to fill; default 25 ms. */
  readonly flushIntervalMs?: number;
}

export interface LineWriter {
  /** Appends one line (with its `\n`): pino's destination interface. */
  write(line: string): void;
  /** Writes out what is buffered, then calls `cb` (pino's `logger.flush(cb)` calls this). */
  flush(cb?: (err?: Error) => void): void;
  /** Lines dropped because the descriptor stayed full (EAGAIN) or failed (EPIPE, EBADF…). */
  readonly droppedLines: number;
}

const open = new Set<FdLineWriter>();
let exitHook = false;

/** A line writer on `fd` (default 1, stdout). */
export function createLineWriter(fd = 1, options: LineWriterOptions = {}): LineWriter {
  const writer = new FdLineWriter(fd, options.flushIntervalMs ?? 25);
  open.add(writer);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const w of open) w.flushSync();
    });
  }
  return writer;
}

class FdLineWriter implements LineWriter {
  droppedLines: number;
  readonly #fd: number;
  readonly #intervalMs: number;
  readonly #buffer: Buffer;
  /** Bytes of whole lines at the start of `#buffer`. */
  #length: number;
  /** Batches that met EAGAIN, oldest first; `#buffer` is written only once they are gone. */
  #pending: Buffer[];
  #pendingBytes: number;
  #timer: NodeJS.Timeout | null;
  /** The descriptor failed for good (EPIPE, EBADF…): lines are counted and dropped. */
  #broken: boolean;
  readonly #onTimer: () => void;

  constructor(fd: number, intervalMs: number) {
    this.droppedLines = 0;
    this.#fd = fd;
    this.#intervalMs = intervalMs;
    this.#buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    this.#length = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#timer = null;
    this.#broken = false;
    this.#onTimer = () => {
      this.#timer = null;
      this.flushSync();
    };
  }

  write(line: string): void {
    if (this.#broken) {
      this.droppedLines++;
      return;
    }
    // A UTF-16 code unit is at most 3 bytes of UTF-8: the line surely fits after `start`.
    if (line.length * 3 > BUFFER_BYTES - this.#length) {
      this.flushSync();
      if (line.length * 3 > BUFFER_BYTES) {
        this.#out(Buffer.from(line));
        return;
      }
    }
    const start = this.#length;
    const bytes = this.#buffer.write(line, start, "utf8");
    if (start > 0 && start + bytes > BATCH_BYTES) {
      // The batch would pass PIPE_BUF: write the lines before this one, keep this one.
      this.#out(this.#buffer.subarray(0, start));
      this.#buffer.copyWithin(0, start, start + bytes);
      this.#length = bytes;
    } else {
      this.#length = start + bytes;
    }
    if (this.#length >= BATCH_BYTES) this.flushSync();
    else if (this.#timer === null) this.#timer = setTimeout(this.#onTimer, this.#intervalMs).unref();
  }

  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    if (cb !== undefined) process.nextTick(cb);
  }

  /** Writes the buffered lines now (and retries what met EAGAIN). */
  flushSync(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#pending.length > 0) this.#retryPending();
    if (this.#length === 0) return;
    const batch = this.#buffer.subarray(0, this.#length);
    this.#length = 0;
    this.#out(batch);
  }

  /** Writes `bytes` whole, or keeps what is left of it on EAGAIN. `bytes` may be a view of `#buffer`. */
  #out(bytes: Buffer): void {
    if (this.#broken) return;
    if (this.#pending.length > 0) {
      this.#keep(bytes, 0);
      return;
    }
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
          this.#keep(bytes, offset);
        } else {
          this.#broken = true;
          this.droppedLines += countLines(bytes, offset);
        }
        return;
      }
    }
  }

  #keep(bytes: Buffer, offset: number): void {
    if (this.#pendingBytes + bytes.length - offset > MAX_PENDING_BYTES) {
      this.droppedLines += countLines(bytes, offset);
      return;
    }
    this.#pending.push(Buffer.from(bytes.subarray(offset)));
    this.#pendingBytes += bytes.length - offset;
    if (this.#timer === null) this.#timer = setTimeout(this.#onTimer, this.#intervalMs).unref();
  }

  #retryPending(): void {
    while (this.#pending.length > 0) {
      const first = this.#pending[0]!;
      let written: number;
      try {
        written = writeSync(this.#fd, first);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
          if (this.#timer === null) this.#timer = setTimeout(this.#onTimer, this.#intervalMs).unref();
          return;
        }
        this.#broken = true;
        for (const b of this.#pending) this.droppedLines += countLines(b, 0);
        this.#pending = [];
        this.#pendingBytes = 0;
        return;
      }
      this.#pendingBytes -= written;
      if (written === first.length) this.#pending.shift();
      else this.#pending[0] = first.subarray(written);
    }
  }
}

function countLines(bytes: Buffer, offset: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10, offset); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return Math.max(n, 1);
}
