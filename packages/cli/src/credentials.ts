/**
 * `osp credentials add|remove|list --config FILE`: client credentials stored in Redis. Every gateway
 * worker on every host sharing that Redis sees a change within a second, without a restart. Needs the
 * config's `redis` and `identity.secretsKey` (secrets are stored encrypted with it, never in the clear).
 */

import { randomBytes } from "node:crypto";
import { createCache } from "@osp/cache";
import { ConfigError, loadConfigFile } from "@osp/config";
import { errorMessage } from "@osp/errors";
import { createCredentialStore } from "@osp/gateway";
import { optionValue } from "./options.js";

const USAGE = `usage:
  osp credentials add --config FILE --access-key ID --principal NAME [--groups a,b] [--secret SECRET]
                      (no --secret: one is generated and printed once)
  osp credentials remove --config FILE --access-key ID
  osp credentials list --config FILE
`;

export async function runCredentials(args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  const file = optionValue(rest, "--config");
  if (action === undefined || file === null || !["add", "remove", "list"].includes(action)) {
    process.stderr.write(USAGE);
    return 2;
  }
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (config.redis === undefined || config.identity.secretsKey === undefined) {
    process.stderr.write("osp credentials: the config needs both `redis` and `identity.secretsKey`\n");
    return 1;
  }
  const quiet = { warn() {}, info() {}, error() {} };
  const cache = createCache({
    redis: {
      url: config.redis.url,
      keyPrefix: config.redis.keyPrefix,
      connectTimeoutMs: config.redis.connectTimeout,
      commandTimeoutMs: Math.max(config.redis.commandTimeout, 5_000),
    },
    l1MaxEntries: 100,
    log: quiet,
  });
  try {
    if (!(await cache.waitUntilUp(config.redis.connectTimeout + 3_000))) {
      throw new Error(`Redis is not reachable (${cache.status().lastError ?? "timeout"})`);
    }
    const store = createCredentialStore(config, cache);
    if (store === null) throw new Error("the credential store is not available");
    return await perform(action, rest, store);
  } catch (err) {
    process.stderr.write(`osp credentials: ${errorMessage(err)}\n`);
    return 1;
  } finally {
    await cache.close();
  }
}

async function perform(
  action: string,
  args: readonly string[],
  store: NonNullable<ReturnType<typeof createCredentialStore>>,
): Promise<number> {
  if (action === "list") {
    for (const c of await store.list()) {
      process.stdout.write(`${c.accessKeyId}\t${c.principal}\t${c.groups.join(",")}\t${c.createdAt}\n`);
    }
    return 0;
  }
  const accessKeyId = optionValue(args, "--access-key");
  if (accessKeyId === null || !/^[A-Za-z0-9_.-]{3,128}$/.test(accessKeyId)) {
    process.stderr.write(`--access-key must be 3-128 characters of A-Z a-z 0-9 _ . -\n${USAGE}`);
    return 2;
  }
  if (action === "remove") {
    const existed = await store.remove(accessKeyId);
    process.stdout.write(existed ? `removed ${accessKeyId}\n` : `${accessKeyId} was not stored\n`);
    return existed ? 0 : 1;
  }
  const principal = optionValue(args, "--principal");
  if (principal === null || principal === "") {
    process.stderr.write(`--principal is required\n${USAGE}`);
    return 2;
  }
  const given = optionValue(args, "--secret");
  if (given !== null && given.length < 8) {
    process.stderr.write("--secret must be at least 8 characters\n");
    return 2;
  }
  const secretAccessKey = given ?? randomBytes(30).toString("base64url");
  const groups = (optionValue(args, "--groups") ?? "").split(",").filter((g) => g !== "");
  await store.add({ accessKeyId, secretAccessKey, principal, groups });
  process.stdout.write(`added ${accessKeyId} for ${principal}\n`);
  if (given === null) process.stdout.write(`secret access key (shown once): ${secretAccessKey}\n`);
  return 0;
}
