import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The closed list of platform actions (`entity.verb`): what the system and operators do to
 * tenants from outside them. Tenant-side actions go to each tenant's own `audit_log`.
 */
export const PLATFORM_AUDIT_ACTIONS = [
  "tenant.reclaim",
  "tenant.suspend",
  "tenant.reactivate",
  "override.create",
  "override.expire",
  "subscription.update",
  "billing.resync",
  "billing.replay",
  "fleet.migrate",
  "operator.invite",
  "operator.update",
  "operator.reset_totp",
  "operator_token.create",
  "operator_token.revoke",
  "support.start",
  "support.approve",
  "support.end",
  "support.token",
] as const;
export type PlatformAuditAction = (typeof PLATFORM_AUDIT_ACTIONS)[number];

/**
 * Append-only audit log of the control plane: scheduled jobs (actor `system`) today, operators
 * tomorrow. It outlives the tenants it names, so `tenant_id` is a plain column, not a reference.
 * Snapshots never contain secrets.
 */
export const platformAuditLog = sqliteTable(
  "platform_audit_log",
  {
    id: text("id").primaryKey(),
    /** `system` (scheduled jobs) or `operator`. */
    actorType: text("actor_type").notNull(),
    /** The job's name (`reclaim`) or the operator's id. */
    actorId: text("actor_id").notNull(),
    action: text("action", { enum: PLATFORM_AUDIT_ACTIONS }).notNull(),
    tenantId: text("tenant_id"),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    /** Why: required of operators, stated by jobs. */
    reason: text("reason"),
    before: text("before"),
    after: text("after"),
    requestId: text("request_id"),
    ip: text("ip"),
    createdAt: integer("created_at").notNull(),
  },
  // The operator audit page filters by tenant, actor or action, newest (highest id) first.
  (t) => [
    index("platform_audit_log_tenant_idx").on(t.tenantId, t.id),
    index("platform_audit_log_actor_idx").on(t.actorId, t.id),
    index("platform_audit_log_action_idx").on(t.action, t.id),
    index("platform_audit_log_created_idx").on(t.createdAt),
  ],
);
