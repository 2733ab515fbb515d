export { auditEntry, auditEntryWhere } from "./audit";
export { type BillingRow, effectivePlan, readBilling } from "./billing-state";
export {
  type BillingTenant,
  recordBillingChange,
  refreshMeter,
  syncTenantBilling,
} from "./billing-sync";
export { inChunks, QUEUE_BATCH_LIMIT } from "./chunks";
export { insertWhere } from "./conditional";
export { CoreConfigSchema, type CoreEnv, configReader, coreConfig } from "./env";
export { type LogFields, type Logger, log } from "./log";
export { ProblemError, renderProblem } from "./problem";
export { parseMessages } from "./queue-messages";
export { retryDelaySeconds } from "./retry";
export { stripeClient } from "./stripe";
export { poolBindings, type TenantDb, tenantDb } from "./tenant-db";
export { type UsageMessage, UsageMessageSchema } from "./usage";
export { initWorkerApp, type WorkerVariables } from "./worker-app";
