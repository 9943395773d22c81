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
} from "./compile-config.js";
export { resolveWorkerCount } from "./workers.js";
