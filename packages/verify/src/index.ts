// Where SigV4 verification work runs: inline on the event loop, on piscina threads, or chosen per request
// (auto). piscina is imported by this package only (docs/architecture.md: one third-party runtime library per
// package).
export {
  createVerifyPool,
  type VerifiedRequest,
  type VerifyPool,
} from "./create-verify-pool.js";
export type { Emit, PooledBodyVerifier } from "./pooled-body-verifier.js";
export {
  VERIFY_FALLBACK_CHANNEL,
  VERIFY_POOL_CHANNEL,
  type VerifyFallbackEvent,
  type VerifyPoolEvent,
} from "./verify-channels.js";
export {
  resolveThreadCount,
  type VerifyMode,
  type VerifyOptions,
} from "./verify-options.js";
export type { BodyVerifierSpec, VerifySignatureOptions } from "./verify-tasks.js";
