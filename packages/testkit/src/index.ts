export {
  type BearerCheckingUpstream,
  type BearerUpstreamStats,
  type StoredObject,
  startBearerCheckingUpstream,
} from "./bearer-checking-upstream.js";
export {
  type FakeIamOptions,
  type FakeIamServer,
  type FakeIamStats,
  startFakeIamServer,
} from "./fake-iam-server.js";
export { closeServer, listenOnLoopback } from "./listen-on-loopback.js";
export { type RadosgwUpstream, radosgwAvailable, startRadosgw } from "./radosgw.js";
export { type Recorded, startRecordingProxy } from "./recording-proxy.js";
export {
  type RedisClusterServer,
  type RedisSentinelServer,
  type RedisServer,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from "./redis.js";
export { requestText, type TextResponse } from "./request-text.js";
export { freePort, type S3rverUpstream, startS3rver, waitForPort } from "./s3rver.js";
