export { type AdminHandlers, type AdminServer, startAdminServer } from "./admin-server.js";
export type { ConfigPayload, RedisState, ToPrimary, ToWorker } from "./ipc-messages.js";
export { describeReadiness, type Readiness } from "./readiness.js";
export { planReload, type ReloadPlan, tlsFingerprint } from "./reload-plan.js";
export { DEFAULT_RESTART_POLICY, RestartPolicy, type RestartPolicyOptions } from "./restart-policy.js";
export { type PrimaryOptions, runPrimary } from "./run-primary.js";
export type { PoolStatus, WorkerStatus } from "./worker-status.js";
