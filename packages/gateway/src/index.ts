// The gateway's public surface: a worker (startWorker), the core the identity benchmark drives, the Redis
// credential store the CLI manages, the events the metrics count, and what tests and benchmarks call.
export type { AuthzFactsJson } from "./authorization/authorizer.js";
export { decisionKey } from "./authorization/authorizer.js";
export { type Authorizer, type AuthzFacts, compileRules } from "./authorization/rules.js";
export { answerPreflight, compileCors, corsResponseHeaders, withoutCorsHeaders } from "./cors/bucket-cors.js";
export {
  GATEWAY_REQUEST_CHANNEL,
  type GatewayRequestEvent,
  gatewayRequestChannel,
  LIST_BUCKETS_FAILURE_CHANNEL,
  type ListBucketsFailureEvent,
} from "./gateway-channels.js";
export type { ClientCredential, CredentialSource, Principal } from "./identity/credential.js";
export { createCredentialStore } from "./identity/credential-sources.js";
export type { CredentialStore, StoredCredential } from "./identity/credential-store.js";
export { createSourceIpResolver } from "./identity/source-ip.js";
export { GatewayCore } from "./worker/gateway-core.js";
export type { GatewayOptions } from "./worker/gateway-options.js";
export { createWorkerCache, type GatewayDeps, type GatewayServices } from "./worker/gateway-services.js";
export { startWorker, type Worker } from "./worker/start-worker.js";
