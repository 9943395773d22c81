import { after, before } from "node:test";
import { type RedisClusterServer, startRedisCluster } from "@osp/testkit";
import { defineSharedScenarios } from "./shared-scenarios.js";

let cluster: RedisClusterServer;
before(async () => {
  cluster = await startRedisCluster({ nodes: 3 });
});
after(() => cluster.stop());

defineSharedScenarios(() => cluster.url);
