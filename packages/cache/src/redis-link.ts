/**
 * The cache's only contact with ioredis: two connections (commands, and a subscriber, since a
 * connection in subscriber mode cannot run commands), their combined up/down state, bounded commands
 * and the pub/sub dispatch. Requests are never queued behind a dead Redis: the offline queue is off,
 * a command on a connection that is not ready fails at once, and every command is bounded by
 * commandTimeoutMs. A timed-out command on a "ready" connection (a hung server or a partition, which
 * sends no RST) drops the connection, so the following commands fail fast until a reconnect succeeds.
 *
 * Every failed command is already in the log through the link, so callers that fall back on a failure need
 * not (and, being per request, must not) log it again: a timeout or a lost connection turns the link "down",
 * which the Cache logs once per outage (create-cache.ts, `#redisChanged`); a reply error while up (OOM,
 * WRONGTYPE…) is logged by `#failed`, at most every 10 s; a command refused while down is that outage.
 */
import { createRequire } from "node:module";
import type {
  ClusterOptions,
  Cluster as IoCluster,
  Redis as IoRedis,
  RedisOptions as IoRedisOptions,
} from "ioredis";

/**
 * ioredis is loaded on first use, not at import: it costs a worker ~20 MiB of RSS, and a gateway on the
 * embedded cache (no `redis` section) never needs it. It is CommonJS, so `require` loads it synchronously.
 */
let ioredis: typeof import("ioredis") | null = null;
function loadIoredis(): typeof import("ioredis") {
  ioredis ??= createRequire(import.meta.url)("ioredis") as typeof import("ioredis");
  return ioredis;
}
type Redis = IoRedis;
type Cluster = IoCluster;

import { errorMessage } from "@osp/errors";
import type { CacheLogger } from "./cache-types.js";
import { INCREMENT_WITH_EXPIRY, type LuaScript, RELEASE_LOCK, TAKE_TOKEN } from "./lua-scripts.js";
import type { ParsedRedisUrl } from "./parse-redis-url.js";

export interface RedisLinkOptions {
  readonly url: ParsedRedisUrl;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly log: CacheLogger;
  /** Both connections ready and subscribed ("up"), or one of them lost ("down"). */
  readonly onState: (state: "up" | "down", error: string | null) => void;
  readonly onMessage: (channel: string, message: string) => void;
}

type Client = Redis | Cluster;

/** Reconnect backoff: 100 ms doubling to 2 s, forever. */
const backoff = (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2_000);
const REPLY_ERROR_LOG_INTERVAL_MS = 10_000;
/** What ioredis rejects a command with when its socket cannot take it and the offline queue is off. */
const OFFLINE_REFUSAL = "Stream isn't writeable";
/**
 * A subscriber never writes, so a connection that died silently (a partition, a server restarted
 * behind a NAT) would go unnoticed and invalidations would be missed; an idle worker would not
 * notice either. Both connections are PINGed this often.
 */
const HEALTH_CHECK_MS = 5_000;

export class RedisLink {
  state: "connecting" | "up" | "down" = "connecting";
  lastError: string | null = null;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #channels = new Set<string>();
  #clientReady = false;
  #subscriberReady = false;
  #closing = false;
  #lastReplyErrorLogMs = 0;
  #errorSinceUp = false;
  readonly #healthTimer: NodeJS.Timeout;
  readonly #options: RedisLinkOptions;

  constructor(options: RedisLinkOptions) {
    this.#options = options;
    this.#client = createClient(options, "osp-cache");
    this.#subscriber = createClient(options, "osp-cache-sub");
    this.#watch(this.#client, (ready) => {
      this.#clientReady = ready;
      this.#pauseClusterSubscriber(!ready);
    });
    this.#watch(this.#subscriber, (ready) => {
      this.#subscriberReady = false;
      if (ready) this.#resubscribe();
    });
    this.#subscriber.on("message", (channel: string, message: string) => options.onMessage(channel, message));
    this.#healthTimer = setInterval(() => this.#checkHealth(), HEALTH_CHECK_MS);
    this.#healthTimer.unref();
  }

  /** True when a command may be sent now (it may still fail). */
  get usable(): boolean {
    return this.#clientReady && this.#client.status === "ready";
  }

  get(key: string): Promise<string | null> {
    return this.#run((c) => c.get(key));
  }

  async setPx(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#run((c) => c.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs))));
  }

  /** SET NX PX: true when this call created the key. */
  async setNxPx(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#run((c) => c.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX"))) === "OK";
  }

  async del(key: string): Promise<void> {
    await this.#run((c) => c.del(key));
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.#script(RELEASE_LOCK, key, [token]);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return Number(await this.#script(INCREMENT_WITH_EXPIRY, key, [String(Math.max(1, Math.ceil(ttlMs)))]));
  }

  async takeToken(key: string, ratePerSecond: number, burst: number): Promise<boolean> {
    return Number(await this.#script(TAKE_TOKEN, key, [String(ratePerSecond), String(burst)])) === 1;
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    await this.#run((c) => c.hset(key, field, value));
  }

  hget(key: string, field: string): Promise<string | null> {
    return this.#run((c) => c.hget(key, field));
  }

  async hdel(key: string, field: string): Promise<boolean> {
    return (await this.#run((c) => c.hdel(key, field))) > 0;
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.#run((c) => c.hgetall(key));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#run((c) => c.publish(channel, message));
  }

  /** Adds a channel to the subscription, now if the subscriber is ready, else on its next "ready". */
  subscribe(channel: string): void {
    if (this.#channels.has(channel)) return;
    this.#channels.add(channel);
    if (this.#subscriber.status === "ready")
      this.#subscriber.subscribe(channel).catch((err) => this.#failed(err));
  }

  unsubscribe(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    if (this.#subscriber.status === "ready")
      this.#subscriber.unsubscribe(channel).catch((err) => this.#failed(err));
  }

  /**
   * UNLINKs every key matching a SCAN pattern, on every master of a cluster. One UNLINK per key (in a
   * pipeline): keys of different slots cannot share a command on a cluster node.
   */
  async deleteMatching(pattern: string): Promise<number> {
    if (!this.usable) throw this.#downError();
    const nodes =
      this.#client instanceof loadIoredis().Cluster ? this.#client.nodes("master") : [this.#client];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        await pipeline.exec();
        deleted += keys.length;
      } while (cursor !== "0");
    }
    return deleted;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#healthTimer);
    await Promise.all([this.#client, this.#subscriber].map(end));
  }

  #run<T>(command: (client: Client) => Promise<T>): Promise<T> {
    if (!this.usable) return Promise.reject(this.#downError());
    const timeoutMs = this.#options.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new Error(`redis command timed out after ${timeoutMs} ms`);
        reject(err);
        this.#timedOut(err);
      }, timeoutMs);
      command(this.#client).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          const message = err instanceof Error ? err.message : "";
          // The socket has ended but its "close" has not come yet (the other connection's may have):
          // refused here, as if the connection were already known to be gone.
          if (message.startsWith(OFFLINE_REFUSAL)) return reject(this.#downError());
          // ioredis's own commandTimeout (same length) may fire first: the same suspect connection.
          if (message === "Command timed out") this.#timedOut(err as Error);
          else this.#failed(err);
          reject(err);
        },
      );
    });
  }

  async #script(script: LuaScript, key: string, args: readonly string[]): Promise<unknown> {
    try {
      return await this.#run((c) => c.evalsha(script.sha, 1, key, ...args));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return await this.#run((c) => c.eval(script.lua, 1, key, ...args));
    }
  }

  #downError(): Error {
    return new Error(
      `redis is ${this.state === "up" ? "reconnecting" : this.state}: ${this.lastError ?? "not connected"}`,
    );
  }

  #timedOut(err: Error): void {
    this.lastError = err.message;
    this.#errorSinceUp = true;
    if (this.#closing || !this.#clientReady) return;
    // Down now: the socket's "close" may not come while the peer is hung (it never answers our FIN).
    this.#clientReady = false;
    this.#update(err.message);
    this.#client.disconnect(true);
  }

  /** A reply error (WRONGTYPE, OOM, NOSCRIPT…) leaves the connection up: logged at most every 10 s. */
  #failed(err: unknown): void {
    const message = errorMessage(err);
    if (message.startsWith("NOSCRIPT")) return;
    this.lastError = message;
    const now = Date.now();
    if (this.#closing || this.state !== "up" || now - this.#lastReplyErrorLogMs < REPLY_ERROR_LOG_INTERVAL_MS)
      return;
    this.#lastReplyErrorLogMs = now;
    this.#options.log.warn({ err: message }, "redis command failed; serving from L1 and sources");
  }

  #checkHealth(): void {
    // #run logs a failed PING (see the header); a timeout also drops the connection.
    if (this.usable) this.#run((c) => c.ping()).catch(() => {});
    // A cluster's subscriber moves to another node by itself when its node goes away.
    const subscriber = this.#subscriber;
    if (!this.#subscriberReady || subscriber instanceof loadIoredis().Cluster) return;
    const timer = setTimeout(() => {
      if (this.#closing || !this.#subscriberReady) return;
      this.#subscriberReady = false;
      this.lastError = "redis subscriber did not answer PING";
      this.#update(this.lastError);
      subscriber.disconnect(true);
    }, this.#options.commandTimeoutMs);
    subscriber.ping().then(
      () => clearTimeout(timer),
      // Refused because the connection is gone: its "close" makes the link "down", which is logged; a
      // PING that is never answered is the timer's.
      () => {},
    );
  }

  /**
   * ioredis's cluster subscriber reconnects to "another node" at once when its node goes, without any
   * backoff: with every node down it spins a CPU core on thousands of connection attempts a second
   * (ioredis #2030). So while the command connection (which backs off) cannot reach the cluster, the
   * subscriber is stopped, and it is started again when the command connection is back.
   */
  #pauseClusterSubscriber(pause: boolean): void {
    const subscriber = this.#subscriber;
    if (this.#closing || !(subscriber instanceof loadIoredis().Cluster)) return;
    if (pause && subscriber.status !== "end") subscriber.disconnect();
    else if (!pause && subscriber.status === "end") subscriber.connect().catch((err) => this.#failed(err));
  }

  #resubscribe(): void {
    const subscribed =
      this.#channels.size === 0 ? Promise.resolve() : this.#subscriber.subscribe(...this.#channels);
    subscribed.then(
      () => {
        this.#subscriberReady = this.#subscriber.status === "ready";
        this.#update(null);
      },
      (err: unknown) => {
        this.#failed(err);
        if (!this.#closing) this.#subscriber.disconnect(true);
      },
    );
  }

  #watch(client: Client, setReady: (ready: boolean) => void): void {
    client.on("ready", () => {
      setReady(true);
      this.#update(null);
    });
    client.on("error", (err: Error) => {
      this.lastError = err.message;
      this.#errorSinceUp = true;
    });
    const lost = () => {
      setReady(false);
      // A killed server closes the socket without an "error" event; an old error would mislead.
      if (this.state === "up" && !this.#errorSinceUp) this.lastError = "connection closed";
      this.#update(this.lastError ?? "connection closed");
    };
    client.on("close", lost);
    client.on("end", lost);
  }

  #update(error: string | null): void {
    if (this.#closing) return;
    const up = this.#clientReady && this.#subscriberReady;
    if (up && this.state !== "up") {
      this.state = "up";
      this.#errorSinceUp = false;
      this.#options.onState("up", null);
    } else if (!up && error !== null && this.state !== "down") {
      this.state = "down";
      this.#options.onState("down", error);
    }
  }
}

function createClient(options: RedisLinkOptions, connectionName: string): Client {
  const url = options.url;
  const common: IoRedisOptions = {
    connectionName,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    retryStrategy: backoff,
    ...(url.username === undefined ? {} : { username: url.username }),
    ...(url.password === undefined ? {} : { password: url.password }),
  };
  if (url.kind === "standalone") {
    const tls = url.tls ? { tls: { servername: url.host } } : {};
    return new (loadIoredis().Redis)({ ...common, ...tls, host: url.host, port: url.port, db: url.db });
  }
  if (url.kind === "sentinel") {
    const sentinels = url.sentinels.map((s) => ({ host: s.host, port: s.port }));
    return new (loadIoredis().Redis)({
      ...common,
      sentinels,
      name: url.masterName,
      db: url.db,
      sentinelRetryStrategy: backoff,
    });
  }
  // A cluster reconnects its nodes itself, and node connections always queue while a node reconnects;
  // commandTimeout and run()'s timer still bound every command.
  const { retryStrategy: _r, enableOfflineQueue: _q, ...nodeOptions } = common;
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: false,
    clusterRetryStrategy: backoff,
    slotsRefreshTimeout: options.connectTimeoutMs,
    redisOptions: nodeOptions,
  };
  return new (loadIoredis().Cluster)(
    url.nodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions,
  );
}

/** Disconnects and waits for "end" (bounded: a client that never connected may not emit it). */
function end(client: Client): Promise<void> {
  if (client.status === "end") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    client.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
    client.disconnect();
  });
}
