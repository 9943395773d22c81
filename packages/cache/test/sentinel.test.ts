import { after, before } from "node:test";
import { type RedisSentinelServer, startRedisSentinel } from "@osp/testkit";
import { defineSharedScenarios } from "./shared-scenarios.js";

let sentinel: RedisSentinelServer;
before(async () => {
  sentinel = await startRedisSentinel();
});
after(() => sentinel.stop());

defineSharedScenarios(() => sentinel.url);
