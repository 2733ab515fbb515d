export {
  type AuditAction,
  auditEntry,
  auditEntryWhere,
  type PlatformAuditAction,
  type ProductAuditAction,
  type ProductAuditActions,
} from "./audit";
export { type BillingRow, effectivePlan, readBilling } from "./billing-state";
export {
  type BillingTenant,
  recordBillingChange,
  refreshMeter,
  syncTenantBilling,
} from "./billing-sync";
export { insertWhere } from "./conditional";
export { CoreConfigSchema, type CoreEnv, configReader, coreConfig } from "./env";
export { ProblemError, renderProblem } from "./problem";
export { retryDelaySeconds } from "./retry";
export { stripeClient } from "./stripe";
export { poolBindings, type TenantDb, tenantDb } from "./tenant-db";
export type { UsageMessage } from "./usage";
