export {
  type AuditAction,
  auditEntry,
  auditEntryWhere,
  type PlatformAuditAction,
  type ProductAuditAction,
  type ProductAuditActions,
  redact,
} from "./audit";
export {
  type AuditFinding,
  type AuditProblem,
  type AuditVerification,
  type ChainPage,
  chainPage,
  type SealResult,
  sealChain,
} from "./audit-chain";
export {
  type AuditPublicKey,
  AuditSigningKeySchema,
  auditPublicKeys,
  type Checkpoint,
} from "./audit-checkpoint";
export {
  type AuditChainCtx,
  type AuditChainEnv,
  sealAuditLogs,
  sealPlatformAuditLog,
  sealTenantAuditLog,
  tenantAuditChain,
  verifyPlatformAuditLog,
  verifyTenantAuditLog,
} from "./audit-integrity";
export { type BillingMessage, BillingMessageSchema } from "./billing-message";
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
export { tenantEntitlements } from "./entitlements";
export { CoreConfigSchema, type CoreEnv, configReader, coreConfig } from "./env";
export { type LogFields, type Logger, log } from "./log";
export {
  ADMISSION_CLASSES,
  type AdmissionClass,
  type ConsumeInput,
  type ConsumeResult,
  countsAsApiCall,
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
export {
  NOTIFICATION_KINDS,
  type NotificationKind,
  type NotifyInput,
  notification,
  notify,
} from "./notifications";
export { newNonce, pageSecurityHeaders } from "./page-headers";
export { type PoolStatus, poolStatus } from "./pool";
export { ProblemError, renderProblem, TooManyRequestsError, ValidationError } from "./problem";
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
export {
  applyTenantMigrations,
  migrateTenantDatabase,
  resetDatabase,
  TENANT_MIGRATIONS,
  type TenantMigration,
} from "./tenant-migrations";
export {
  type Budget,
  refundAttempt,
  refuseSpent,
  type Taken,
  takeAttempt,
} from "./throttle";
export { type UsageMessage, UsageMessageSchema } from "./usage";
export { type ReconcileRow, reconcileUsage, type UsageReconcile } from "./usage-reconcile";
export { initWorkerApp, type WorkerVariables } from "./worker-app";
