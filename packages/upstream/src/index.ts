export { OriginPool } from "./h1/origin-pool.js";
export { type IamToken, IamTokenProvider, type IamTokenProviderOptions } from "./iam-token-provider.js";
export { mapUpstreamError } from "./map-upstream-error.js";
export { DEFAULT_ORIGIN_OPTIONS, type OriginOptions } from "./origin-options.js";
export {
  type ResponseHandler,
  sendUpstream,
  type UpstreamCall,
  type UpstreamRequest,
} from "./send-upstream.js";
export {
  type BufferedRequest,
  type BufferedResponse,
  sendUpstreamBuffered,
} from "./send-upstream-buffered.js";
export { createUpstreamBody, type UpstreamBody } from "./upstream-body.js";
export {
  IAM_TOKEN_CHANNEL,
  type IamTokenEvent,
  UPSTREAM_REQUEST_CHANNEL,
  type UpstreamRequestEvent,
} from "./upstream-channels.js";
export { UpstreamPools } from "./upstream-pools.js";
