export { type Authorizer, type AuthzFacts, compileRules, type RuleAuthorizer } from "./authorize.js";
export {
  answerPreflight,
  type BucketCors,
  type CorsPolicies,
  compileCors,
  corsResponseHeaders,
  withoutCorsHeaders,
} from "./cors.js";
export { type AuthzFactsJson, createAuthorizer, decisionKey } from "./create-authorizer.js";
export { CredentialStore, parseSecretsKey, type StoredCredential } from "./credential-store.js";
export {
  GATEWAY_REQUEST_CHANNEL,
  type GatewayRequestEvent,
  gatewayRequestChannel,
  LIST_BUCKETS_FAILURE_CHANNEL,
  type ListBucketsFailureEvent,
} from "./gateway-channels.js";
export { createWorkerCache, GatewayCore, type GatewayDeps } from "./gateway-core.js";
export {
  type ClientCredential,
  type CredentialSource,
  createConfigCredentials,
  createCredentialSource,
  createCredentialStore,
  type Principal,
} from "./identity.js";
export { createSourceIpResolver, type SourceIpResolver } from "./source-ip.js";
export { startWorker, type Worker } from "./start-worker.js";
