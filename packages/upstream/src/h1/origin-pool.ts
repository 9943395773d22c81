import type { OriginOptions } from "../origin-options.js";
import {
  type ConnectionCall,
  type ConnectionOwner,
  type ConnectTarget,
  UpstreamClosedError,
  UpstreamConnection,
  UpstreamTimeoutError,
} from "./upstream-connection.js";

/** A request the pool cannot take any more (closed for shutdown). */
class PoolClosedError extends Error {
  readonly code = "OSP_POOL_CLOSED";

  constructor() {
    super("upstream pool closed");
    this.name = "PoolClosedError";
  }
}

/**
 * The connections to one origin: at most `connections` sockets, idle ones reused most-recently-used first (a
 * warm socket is less likely to have been closed by the origin), requests beyond the limit queued in order.
 * Deadlines (connect, headers, body, idle) are checked by one sweeper per pool rather than a timer per
 * request: arming a deadline is then a field write on the hot path.
 */
export class OriginPool implements ConnectionOwner {
  readonly origin: string;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly pausedTimeoutMs: number;
  tlsSession: Buffer | undefined;
  readonly #options: OriginOptions;
  readonly #target: ConnectTarget;
  readonly #all = new Set<UpstreamConnection>();
  readonly #idle: UpstreamConnection[] = [];
  #queue: ConnectionCall[] = [];
  #sweeper: NodeJS.Timeout | null = null;
  readonly #sweepEveryMs: number;
  #closing = false;
  #closed: Promise<void> | null = null;
  #whenClosed: (() => void) | null = null;

  constructor(origin: string, options: OriginOptions, target: ConnectTarget) {
    this.origin = origin;
    this.#options = options;
    this.#target = target;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.headersTimeoutMs = options.headersTimeoutMs;
    this.bodyTimeoutMs = options.bodyTimeoutMs;
    this.pausedTimeoutMs = options.pausedTimeoutMs;
    const shortest = Math.min(
      options.connectTimeoutMs,
      options.headersTimeoutMs,
      options.bodyTimeoutMs,
      options.keepAliveTimeoutMs,
      options.queueTimeoutMs,
      options.pausedTimeoutMs,
    );
    // A deadline fires at most a tenth of the shortest timeout late (and at least every second).
    this.#sweepEveryMs = Math.min(Math.max(Math.floor(shortest / 10), 10), 1000);
  }

  /** Starts `call` on an idle connection, a new one, or queues it. Throws `PoolClosedError` once closing. */
  dispatch(call: ConnectionCall): void {
    if (this.#closing) throw new PoolClosedError();
    let idle = this.#idle.pop();
    if (idle !== undefined) {
      // One past its keep-alive deadline may be closed by the origin any moment: never hand it out.
      const now = Date.now();
      while (idle?.idleExpired(now)) {
        idle.close();
        idle = this.#idle.pop();
      }
    }
    if (idle !== undefined) {
      idle.start(call);
      return;
    }
    if (this.#all.size < this.#options.connections) {
      this.#open().start(call);
      return;
    }
    call.queuedAtMs = Date.now();
    this.#queue.push(call);
  }

  /** Sends `call` again on a fresh connection (its reused one had been closed by the origin). */
  retry(call: ConnectionCall): void {
    if (this.#all.size < this.#options.connections) this.#open().start(call);
    else {
      call.queuedAtMs = Date.now();
      this.#queue.unshift(call);
    }
  }

  /** Takes a call that has not started out of the queue (its client went away). */
  unqueue(call: ConnectionCall): void {
    const i = this.#queue.indexOf(call);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  released(conn: UpstreamConnection, idleTimeoutMs: number): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      conn.start(next);
      return;
    }
    if (this.#closing) {
      conn.close();
      return;
    }
    const keepAliveMs = this.#options.keepAliveTimeoutMs;
    conn.idleUntil(idleTimeoutMs > 0 ? Math.min(idleTimeoutMs, keepAliveMs) : keepAliveMs);
    this.#idle.push(conn);
  }

  gone(conn: UpstreamConnection): void {
    this.#all.delete(conn);
    const i = this.#idle.lastIndexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    // A queued request waits for a free slot; a closed connection is one.
    const next =
      this.#queue.length > 0 && this.#all.size < this.#options.connections ? this.#queue.shift() : undefined;
    if (next !== undefined) this.#open().start(next);
    if (this.#all.size === 0) {
      if (this.#sweeper !== null) {
        clearInterval(this.#sweeper);
        this.#sweeper = null;
      }
      // The connection's call hears of its failure after this, and may go out again on a new one (retry).
      if (this.#closing) queueMicrotask(() => this.#settleClose());
    }
  }

  /**
   * Stops taking requests; resolves once every started or queued request has finished and sockets closed.
   * Every call (and `destroy()`) returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    this.#closed = new Promise((resolve) => {
      this.#whenClosed = resolve;
    });
    for (const conn of [...this.#idle]) conn.close();
    this.#settleClose();
    return this.#closed;
  }

  /** Closes every socket now; started and queued requests fail (ServiceUnavailable, source internal). */
  destroy(): Promise<void> {
    const closed = this.close();
    const queued = this.#queue;
    this.#queue = [];
    const err = new UpstreamClosedError("OSP_POOL_DESTROYED", "upstream pool destroyed");
    for (const call of queued) call.onFailure(err, false);
    for (const conn of [...this.#all]) conn.destroyWith(err);
    return closed;
  }

  #settleClose(): void {
    if (this.#all.size > 0 || this.#queue.length > 0) return;
    this.#whenClosed?.();
    this.#whenClosed = null;
  }

  #open(): UpstreamConnection {
    const conn = new UpstreamConnection(this, this.#target);
    this.#all.add(conn);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.#sweep(), this.#sweepEveryMs);
      this.#sweeper.unref();
    }
    return conn;
  }

  #sweep(): void {
    const now = Date.now();
    for (const conn of this.#all) conn.checkDeadline(now);
    // Queued requests: the sweeper runs whenever any wait, since they wait only while every connection is busy.
    const oldest = now - this.#options.queueTimeoutMs;
    if (this.#queue.some((call) => call.queuedAtMs <= oldest)) {
      const expired = this.#queue.filter((call) => call.queuedAtMs <= oldest);
      this.#queue = this.#queue.filter((call) => call.queuedAtMs > oldest);
      const err = new UpstreamTimeoutError(
        "OSP_QUEUE_TIMEOUT",
        "no connection to the origin came free in time",
      );
      for (const call of expired) call.onFailure(err, false);
    }
  }
}
