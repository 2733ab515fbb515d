export {
  type AuditAction,
  auditEntry,
  auditEntryWhere,
  type PlatformAuditAction,
  type ProductAuditAction,
  type ProductAuditActions,
  redact,
} from "./audit";
export { type BillingRow, effectivePlan, readBilling } from "./billing-state";
export {
  type BillingTenant,
  recordBillingChange,
  refreshMeter,
  syncTenantBilling,
} from "./billing-sync";
export { inChunks, QUEUE_BATCH_LIMIT } from "./chunks";
export { insertWhere } from "./conditional";
export { controlDb } from "./control-db";
export { CoreConfigSchema, type CoreEnv, configReader, coreConfig } from "./env";
export { type LogFields, type Logger, log } from "./log";
export {
  ADMISSION_CLASSES,
  type AdmissionClass,
  type ConsumeInput,
  type ConsumeResult,
  type GaugeDrift,
  type LeaseInput,
  type LeaseReport,
  type LeaseResult,
  type MeterNamespace,
  type MeterTotal,
  meterFor,
  type QuotaHeader,
  type TenantMeterObject,
  type TenantMeterRpc,
  type UnflushedUsage,
} from "./meter-contract";
export { ProblemError, renderProblem, ValidationError } from "./problem";
export { parseMessages } from "./queue-messages";
export { retryDelaySeconds } from "./retry";
export { stripeClient } from "./stripe";
export {
  type AlsoInBatch,
  approveSupportAccess,
  endExpiredSupportAccess,
  endSupportAccess,
  listSupportSessions,
  mintSupportToken,
  type StartSupportAccessInput,
  StartSupportAccessInputSchema,
  SUPPORT_DEFAULT_MINUTES,
  SUPPORT_MAX_MINUTES,
  SUPPORT_TOKEN_AUDIENCE,
  SUPPORT_TOKEN_TTL_SECONDS,
  SUPPORT_TOKEN_TYPE,
  type SupportAccessContext,
  type SupportAccessEnv,
  type SupportMailMessage,
  SupportMailMessageSchema,
  type SupportSessionChange,
  type SupportSessionView,
  startSupportAccess,
} from "./support-access";
export { poolBindings, type TenantDb, tenantDb } from "./tenant-db";
export { type UsageMessage, UsageMessageSchema } from "./usage";
export { initWorkerApp, type WorkerVariables } from "./worker-app";
