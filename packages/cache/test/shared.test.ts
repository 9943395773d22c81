import { after, before } from "node:test";
import { type RedisServer, startRedis } from "@osp/testkit";
import { defineSharedScenarios } from "./shared-scenarios.js";

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

defineSharedScenarios(() => redis.url);
