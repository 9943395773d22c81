export { type Authorizer, type AuthzFacts, compileRules } from "./authorize.js";
export {
  GATEWAY_REQUEST_CHANNEL,
  type GatewayRequestEvent,
  gatewayRequestChannel,
} from "./gateway-channels.js";
export { GatewayCore, type GatewayDeps } from "./gateway-core.js";
export {
  type ClientCredential,
  type CredentialSource,
  createConfigCredentials,
  type Principal,
} from "./identity.js";
export { startWorker, type Worker } from "./start-worker.js";
