export {
  applyBucketTemplate,
  BUCKET_PLACEHOLDER,
  type BucketTemplate,
  bucketGlobsOverlap,
  globLiteralPrefix,
  isBucketGlob,
  matchBucketGlob,
  parseBucketTemplate,
  reverseBucketTemplate,
} from "./bucket-names.js";
export {
  type Config,
  ConfigError,
  type ConfigProblem,
  compileConfig,
  configKeyPaths,
  loadConfigFile,
  readConfigFile,
  suggest,
} from "./compile-config.js";
export { parseDurationMs } from "./duration.js";
export { ACTIONS, AUTHZ_FACTS, configSchema, type RawConfig } from "./schema.js";
export { resolveWorkerCount } from "./workers.js";
