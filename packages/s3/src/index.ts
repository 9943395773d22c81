export {
  buildUpstreamTarget,
  type UpstreamEndpoint,
  type UpstreamTarget,
} from "./build-upstream-target.js";
export { type Classification, classifyOperation } from "./classify-operation.js";
export { decodePercent } from "./decode-percent.js";
export {
  type DeleteObjectsEntry,
  type DeleteObjectsRequest,
  MAX_DELETE_OBJECTS,
  parseDeleteObjects,
  renderDeleteObjects,
} from "./delete-objects.js";
export { isValidBucketName, isVirtualHostableBucket } from "./is-valid-bucket-name.js";
export { checkKeySegments, dotSegmentError, hasDotSegment, type KeyMode } from "./key-segments.js";
export { OPERATION_ACTIONS, S3_OPERATIONS, type S3Action, type S3Operation } from "./operations.js";
export {
  type CopySource,
  formatCopySource,
  type ParseCopySourceOptions,
  parseCopySource,
} from "./parse-copy-source.js";
export { type ListBucketsResult, parseListBuckets } from "./parse-list-buckets.js";
export { type ParsedQuery, parseQuery } from "./parse-query.js";
export {
  type BucketOwner,
  type ListedBucket,
  renderListBuckets,
  S3_XML_NAMESPACE,
} from "./render-list-buckets.js";
export {
  DEFAULT_MAX_KEY_BYTES,
  type ResolveTargetOptions,
  resolveTarget,
  type S3Target,
  splitRequestTarget,
} from "./resolve-target.js";
export { isValidId, type UpstreamQuery, upstreamQueryFor } from "./upstream-query.js";
export { encodeKeyPath, uriEncode } from "./uri-encode.js";
