export { AUDIT_ACTIONS, type AuditAction, type AuditInput, auditEntry, redact } from "./audit";
export { type BillingRow, type EffectivePlan, effectivePlan, readBilling } from "./billing-state";
export {
  type BillingTenant,
  recordBillingChange,
  refreshMeter,
  type SyncContext,
  syncTenantBilling,
} from "./billing-sync";
export {
  type CoreConfig,
  CoreConfigSchema,
  type CoreEnv,
  configReader,
  coreConfig,
  gracePeriodMs,
} from "./env";
export { ProblemError, renderProblem } from "./problem";
export { stripeClient } from "./stripe";
export {
  POOL_BINDING,
  poolBindings,
  poolDatabase,
  type TenantDb,
  type TenantLocator,
  tenantDb,
} from "./tenant-db";
export type { UsageMessage } from "./usage";
