import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Per-tenant overrides of plan defaults (a feature, a limit, or a rollout flag), with the reason
 * and an optional expiry; evaluated on top of the plan by `packages/plans`.
 */
export const entitlementOverrides = sqliteTable(
  "entitlement_overrides",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The override as `EntitlementOverrideSchema` (JSON): type, key, value, reason, expiry. */
    override: text("override").notNull(),
    expiresAt: integer("expires_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("entitlement_overrides_tenant_idx").on(t.tenantId)],
);

/** Rollout flag definitions (`FlagDefinitionSchema` JSON): default, per plan, percentage. */
export const featureFlags = sqliteTable("feature_flags", {
  key: text("key").primaryKey(),
  definition: text("definition").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
