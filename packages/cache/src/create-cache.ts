/**
 * The Cache: one per worker process. It owns the L1 store, the Redis link (absent in memory mode), the
 * pub/sub messages between Cache instances (invalidations, fill notices, topics) and the per-process
 * stand-ins for counters and buckets. Redis being down never makes a call throw or wait past
 * commandTimeoutMs, except the hash store, whose callers need to know a write did not happen.
 */

import { randomUUID } from "node:crypto";
import { errorMessage } from "@osp/errors";
import { type CacheRedisEvent, cacheRedisChannel } from "./cache-channels.js";
import { CacheNamespaceImpl, type NamespaceHost } from "./cache-namespace.js";
import type {
  Cache,
  CacheLogger,
  CacheNamespace,
  CacheOptions,
  CacheStatus,
  NamespaceOptions,
  RedisState,
} from "./cache-types.js";
import { L1Store } from "./l1-store.js";
import { LocalLimits } from "./local-limits.js";
import { parseRedisUrl } from "./parse-redis-url.js";
import { RedisLink } from "./redis-link.js";

const NAMESPACE_NAME = /^[A-Za-z0-9_.-]+$/;
/** Key families of the cache itself (see README): a namespace of the same name would share their keys. */
const RESERVED_NAMES = new Set(["lock", "count", "rate", "hash"]);

/** Creates the cache; with `redis` it connects in the background and never throws because Redis is down. */
export function createCache(options: CacheOptions): Cache {
  return new CacheImpl(options);
}

interface InvalidationMessage {
  readonly sender: string;
  readonly namespace: string;
  /** null: every key of the namespace. */
  readonly key: string | null;
}

class CacheImpl implements Cache, NamespaceHost {
  readonly mode: "memory" | "redis";
  readonly l1: L1Store;
  readonly link: RedisLink | null = null;
  readonly keyPrefix: string;
  readonly nowMs: () => number;
  readonly log: CacheLogger;
  /** Tells this instance's own invalidation messages apart (it already dropped the key). */
  readonly #id = randomUUID();
  readonly #namespaces = new Map<string, CacheNamespaceImpl<unknown>>();
  readonly #limits: LocalLimits;
  readonly #topics = new Map<string, Set<(message: string) => void>>();
  readonly #fillWaiters = new Map<string, Set<() => void>>();
  readonly #statusListeners = new Set<(s: CacheStatus) => void>();
  readonly #invalidateChannel: string;
  readonly #filledChannel: string;
  readonly #topicPrefix: string;
  readonly #redactedUrl: string | null = null;
  #state: RedisState;
  /** A lost invalidation was logged since the last change of the Redis state (`invalidationLost`). */
  #invalidationLossLogged = false;
  #sinceMs: number;

  constructor(options: CacheOptions) {
    this.l1 = new L1Store(options.l1MaxEntries, options.l1MaxBytes);
    this.#limits = new LocalLimits(options.l1MaxEntries);
    this.nowMs = options.nowMs ?? Date.now;
    this.log = options.log;
    this.#sinceMs = this.nowMs();
    this.keyPrefix = options.redis?.keyPrefix ?? "";
    this.#invalidateChannel = `${this.keyPrefix}invalidate`;
    this.#filledChannel = `${this.keyPrefix}filled`;
    this.#topicPrefix = `${this.keyPrefix}topic:`;
    this.mode = options.redis === undefined ? "memory" : "redis";
    this.#state = options.redis === undefined ? "none" : "connecting";
    if (options.redis === undefined) return;
    const url = parseRedisUrl(options.redis.url);
    this.#redactedUrl = url.redacted;
    this.link = new RedisLink({
      url,
      connectTimeoutMs: options.redis.connectTimeoutMs,
      commandTimeoutMs: options.redis.commandTimeoutMs,
      log: this.log,
      onState: (state, error) => this.#redisChanged(state, error),
      onMessage: (channel, message) => this.#received(channel, message),
    });
    this.link.subscribe(this.#invalidateChannel);
    this.link.subscribe(this.#filledChannel);
  }

  namespace<T>(name: string, options: NamespaceOptions<T>): CacheNamespace<T> {
    if (!NAMESPACE_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new TypeError(
        `cache namespace name "${name}" must match ${NAMESPACE_NAME} and not be lock|count|rate|hash`,
      );
    }
    if (this.#namespaces.has(name)) throw new TypeError(`cache namespace "${name}" already exists`);
    for (const field of ["ttlMs", "negativeTtlMs"] as const) {
      if (!(options[field] >= 0)) throw new TypeError(`cache namespace "${name}": ${field} must be >= 0`);
    }
    if (options.lockFill === true && !options.shared) {
      throw new TypeError(
        `cache namespace "${name}": lockFill needs shared (the lock and the value live in Redis)`,
      );
    }
    const ns = new CacheNamespaceImpl<T>(name, options, this);
    this.#namespaces.set(name, ns as CacheNamespaceImpl<unknown>);
    return ns;
  }

  status(): CacheStatus {
    return {
      mode: this.mode,
      redis: this.#state,
      sinceMs: this.#sinceMs,
      lastError: this.link?.lastError ?? null,
    };
  }

  onStatusChange(listener: (s: CacheStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.mode === "memory" || this.#state === "up") return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (up: boolean): void => {
        clearTimeout(timer);
        stop();
        resolve(up);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const stop = this.onStatusChange((s) => {
        if (s.redis === "up") done(true);
      });
    });
  }

  async incrementWithExpiry(key: string, ttlMs: number): Promise<number> {
    if (!(ttlMs > 0)) throw new TypeError("incrementWithExpiry needs ttlMs > 0");
    if (this.link?.usable === true) {
      // A failure is logged by the link (redis-link.ts, its header); this process counts alone meanwhile.
      const count = await this.link.increment(`${this.keyPrefix}count:${key}`, ttlMs).catch(() => null);
      if (count !== null) return count;
    }
    return this.#limits.increment(key, ttlMs, this.nowMs());
  }

  async takeToken(key: string, ratePerSecond: number, burst: number): Promise<boolean> {
    if (!(ratePerSecond > 0) || !(burst >= 1))
      throw new TypeError("takeToken needs ratePerSecond > 0 and burst >= 1");
    if (this.link?.usable === true) {
      // A failure is logged by the link (redis-link.ts, its header); this process limits alone meanwhile.
      const allowed = await this.link
        .takeToken(`${this.keyPrefix}rate:${key}`, ratePerSecond, burst)
        .catch(() => null);
      if (allowed !== null) return allowed;
    }
    return this.#limits.takeToken(key, ratePerSecond, burst, this.nowMs());
  }

  async hashSet(hash: string, field: string, value: string): Promise<void> {
    await this.link?.hset(`${this.keyPrefix}hash:${hash}`, field, value);
  }

  async hashGet(hash: string, field: string): Promise<string | null> {
    return this.link === null ? null : this.link.hget(`${this.keyPrefix}hash:${hash}`, field);
  }

  async hashDelete(hash: string, field: string): Promise<boolean> {
    return this.link === null ? false : this.link.hdel(`${this.keyPrefix}hash:${hash}`, field);
  }

  async hashGetAll(hash: string): Promise<Record<string, string>> {
    return this.link === null ? {} : this.link.hgetall(`${this.keyPrefix}hash:${hash}`);
  }

  async publish(topic: string, message: string): Promise<void> {
    if (this.link === null) {
      queueMicrotask(() => this.#deliver(topic, message));
      return;
    }
    if (this.link.usable) {
      // This instance gets it back through its own subscription, like every other instance.
      const sent = await this.link.publish(this.#topicPrefix + topic, message).then(
        () => true,
        () => false,
      );
      if (sent) return;
    }
    queueMicrotask(() => this.#deliver(topic, message));
    throw new Error(`redis is down: "${topic}" was delivered in this process only`);
  }

  subscribe(topic: string, handler: (message: string) => void): () => void {
    let handlers = this.#topics.get(topic);
    if (handlers === undefined) {
      handlers = new Set();
      this.#topics.set(topic, handlers);
      this.link?.subscribe(this.#topicPrefix + topic);
    }
    handlers.add(handler);
    return () => {
      const set = this.#topics.get(topic);
      if (set === undefined || !set.delete(handler) || set.size > 0) return;
      this.#topics.delete(topic);
      this.link?.unsubscribe(this.#topicPrefix + topic);
    };
  }

  async close(): Promise<void> {
    await this.link?.close();
    for (const waiters of this.#fillWaiters.values()) for (const wake of waiters) wake();
    this.#fillWaiters.clear();
  }

  async publishInvalidation(namespace: string, key: string | null): Promise<void> {
    if (this.link === null) return;
    const message: InvalidationMessage = { sender: this.#id, namespace, key };
    await this.link
      .publish(this.#invalidateChannel, JSON.stringify(message))
      .catch((err) =>
        this.invalidationLost(
          namespace,
          err,
          "cache invalidation not published: other processes keep their entries until they expire or Redis returns",
        ),
      );
  }

  waitForFill(id: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let waiters = this.#fillWaiters.get(id);
      if (waiters === undefined) {
        waiters = new Set();
        this.#fillWaiters.set(id, waiters);
      }
      const set = waiters;
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.#fillWaiters.get(id) === set) this.#fillWaiters.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }

  /**
   * An invalidation that did not reach Redis (`what` says which part and what it leaves behind), said once
   * per Redis state: a failing Redis fails every invalidation, and the outage itself is logged once already
   * (`#redisChanged`) or, while up, its reply errors by the link. When Redis returns every L1 is flushed, so
   * the entries other processes kept end then at the latest.
   */
  invalidationLost(namespace: string, err: unknown, what: string): void {
    if (this.#invalidationLossLogged) return;
    this.#invalidationLossLogged = true;
    this.log.warn(
      { namespace, err: errorMessage(err) },
      `${what} (further ones are not logged until Redis's state changes)`,
    );
  }

  async announceFill(namespace: string, key: string): Promise<void> {
    // Harmless when lost: a waiter wakes at its own timeout and reads Redis itself. A failure is logged by
    // the link (redis-link.ts, its header).
    await this.link?.publish(this.#filledChannel, JSON.stringify({ namespace, key })).catch(() => {});
  }

  #received(channel: string, text: string): void {
    if (channel.startsWith(this.#topicPrefix)) {
      this.#deliver(channel.slice(this.#topicPrefix.length), text);
      return;
    }
    let message: Partial<InvalidationMessage>;
    try {
      message = JSON.parse(text) as Partial<InvalidationMessage>;
    } catch {
      return;
    }
    if (typeof message.namespace !== "string" || (typeof message.key !== "string" && message.key !== null))
      return;
    if (channel === this.#invalidateChannel) {
      if (message.sender !== this.#id) this.#namespaces.get(message.namespace)?.dropLocal(message.key);
    } else if (channel === this.#filledChannel && message.key !== null) {
      const waiters = this.#fillWaiters.get(`${message.namespace}:${message.key}`);
      if (waiters !== undefined) for (const wake of [...waiters]) wake();
    }
  }

  #deliver(topic: string, message: string): void {
    const handlers = this.#topics.get(topic);
    if (handlers === undefined) return;
    for (const handler of [...handlers]) {
      try {
        handler(message);
      } catch (err) {
        this.log.error({ topic, err: errorMessage(err) }, "cache topic handler threw");
      }
    }
  }

  /**
   * Up: L1 is cleared, since invalidations published while this worker was cut off were missed; the
   * cluster converges without a restart. Down: logged once, then every call serves from L1 and fills.
   */
  #redisChanged(state: "up" | "down", error: string | null): void {
    this.#state = state;
    this.#sinceMs = this.nowMs();
    this.#invalidationLossLogged = false;
    if (state === "up") {
      this.l1.clear();
      this.log.info({ redis: this.#redactedUrl }, "redis up: L1 cleared, sharing through redis");
    } else {
      this.log.warn({ redis: this.#redactedUrl, err: error }, "redis down: serving from L1 and sources");
    }
    if (cacheRedisChannel.hasSubscribers) {
      const event: CacheRedisEvent = { state, error };
      cacheRedisChannel.publish(event);
    }
    const status = this.status();
    for (const listener of [...this.#statusListeners]) listener(status);
  }
}
