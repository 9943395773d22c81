export { type AuthzFactsJson, createAuthorizer, decisionKey } from "./authorization/authorizer.js";
export {
  type Authorizer,
  type AuthzFacts,
  compileRules,
  type RuleAuthorizer,
} from "./authorization/rules.js";
export {
  answerPreflight,
  type BucketCors,
  type CorsPolicies,
  compileCors,
  corsResponseHeaders,
  withoutCorsHeaders,
} from "./cors/bucket-cors.js";
export {
  GATEWAY_REQUEST_CHANNEL,
  type GatewayRequestEvent,
  gatewayRequestChannel,
  LIST_BUCKETS_FAILURE_CHANNEL,
  type ListBucketsFailureEvent,
} from "./gateway-channels.js";
export {
  type ClientCredential,
  type CredentialSource,
  createConfigCredentials,
  createCredentialSource,
  createCredentialStore,
  type Principal,
} from "./identity/credential-sources.js";
export { CredentialStore, parseSecretsKey, type StoredCredential } from "./identity/credential-store.js";
export { createSourceIpResolver, type SourceIpResolver } from "./identity/source-ip.js";
export { createWorkerCache, GatewayCore, type GatewayDeps } from "./worker/gateway-core.js";
export { startWorker, type Worker } from "./worker/start-worker.js";
