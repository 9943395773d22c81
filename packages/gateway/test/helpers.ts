/** What the gateway's unit tests share: loggers, a Redis-backed cache per test, configs. */
import { randomUUID } from "node:crypto";
import { type Cache, createCache } from "@osp/cache";
import { type Config, compileConfig } from "@osp/config";
import { createLogger, type Logger } from "@osp/log";

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
