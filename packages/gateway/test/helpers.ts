/** What the gateway's unit tests share: loggers, a Redis-backed cache per test, configs. */
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { type Cache, createCache } from "@osp/cache";
import { type Config, compileConfig } from "@osp/config";
import { createLogger, type Logger } from "@osp/log";
import { type RedisServer, startRedis } from "@osp/testkit";

export interface LoggedLine {
  readonly level: string;
  readonly obj: unknown;
  readonly msg: string;
}

/** A logger that keeps its lines (only the calls the gateway makes), for asserting what was logged. */
export function recordingLogger(): Logger & { readonly lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg = ""): void => {
      lines.push({ level, obj, msg });
    };
  const log = { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
  return log as unknown as Logger & { readonly lines: LoggedLine[] };
}

export const silentLogger = (): Logger => createLogger({ level: "silent" });

/** A Redis-mode cache (one "worker") on `url`, under `keyPrefix` so that tests sharing a server stay apart. */
export function redisCache(url: string, keyPrefix: string): Cache {
  return createCache({
    redis: { url, keyPrefix, connectTimeoutMs: 1_000, commandTimeoutMs: 500 },
    l1MaxEntries: 1_000,
    log: silentLogger(),
  });
}

export const uniquePrefix = (): string => `gw-${randomUUID().slice(0, 8)}:`;

/**
 * A private redis-server for the calling test file, started before its tests and stopped after them, with
 * every cache made through it (or handed to `track`) closed first.
 */
export function redisForFile(): {
  readonly url: string;
  /** A Redis-mode cache on `url` (default: this file's server) under a fresh key prefix. */
  cache(url?: string): Cache;
  /** Closes `cache` with the others at the end; returns it. */
  track(cache: Cache): Cache;
} {
  let server: RedisServer | null = null;
  const caches: Cache[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await server?.stop();
  });
  const files = {
    get url(): string {
      if (server === null) throw new Error("redis is not started yet");
      return server.url;
    },
    cache: (url?: string): Cache => files.track(redisCache(url ?? files.url, uniquePrefix())),
    track(cache: Cache): Cache {
      caches.push(cache);
      return cache;
    },
  };
  return files;
}

/** A config with one endpoint and bucket `data`, plus `extra` YAML at the top level. */
export function testConfig(extra = "", endpointUrl = "http://127.0.0.1:9"): Config {
  return compileConfig(
    `
logging: { level: silent }
endpoints:
  store:
    url: ${endpointUrl}
    auth: { type: hmac, accessKeyId: upstreamkey, secretAccessKey: upstreamsecret }
buckets:
  data: { endpoint: store }
${extra}`,
    "gateway-test",
    {},
  );
}
