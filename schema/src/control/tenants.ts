import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamps } from "../columns";

/**
 * `reclaiming`: an unverified sign-up past its window, out of service and about to be removed
 * (its database wiped and returned to the pool) by the reclaim job.
 */
export const TENANT_STATUSES = ["provisioning", "active", "suspended", "reclaiming"] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/**
 * Billing access as the billing sync last recorded it (`effectivePlan` in @tenantry/core), with
 * `grace` for full access that a past-due payment will end. Kept in the registry beside `plan` so
 * operators can filter on it through an index; the time-driven step from grace to read-only is
 * recorded by the webhooks worker's sweep (every 5 minutes).
 */
export const TENANT_ACCESS = ["full", "grace", "read_only", "free_limits"] as const;
export type TenantAccess = (typeof TENANT_ACCESS)[number];

/** The tenant registry. The row names the tenant's database; a request never does. */
export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    status: text("status", { enum: TENANT_STATUSES }).notNull(),
    plan: text("plan"),
    /** A tenant without a subscription is on free limits until the billing sync says otherwise. */
    access: text("access", { enum: TENANT_ACCESS }).notNull().default("free_limits"),
    /** Name of the D1 binding that holds this tenant's data (`TENANT_DB_0007`). */
    databaseBinding: text("database_binding").unique(),
    schemaVersion: integer("schema_version").notNull().default(0),
    /** Last provisioning step that completed; provisioning resumes after it. */
    provisioningStep: text("provisioning_step"),
    provisioningError: text("provisioning_error"),
    ownerUserId: text("owner_user_id").notNull(),
    region: text("region"),
    /** The tenant's Stripe customer; null until linked (retried by the scheduled sweep). */
    stripeCustomerId: text("stripe_customer_id").unique(),
    /** When the unverified owner was told the tenant will be reclaimed (services/reclaim.ts). */
    reclaimWarnedAt: integer("reclaim_warned_at"),
    ...timestamps,
  },
  // The operator console's list shapes (apps/admin/server/services/tenants.ts): each filter and
  // prefix search walks an index in the order it pages, so no shape scans or sorts the registry.
  (t) => [
    index("tenants_status_idx").on(t.status, t.id),
    index("tenants_plan_idx").on(t.plan, t.id),
    index("tenants_access_idx").on(t.access, t.id),
    index("tenants_name_idx").on(sql`lower(${t.name})`, t.id),
    index("tenants_owner_idx").on(t.ownerUserId, t.id),
    // The fleet migration's "who is behind" (every cron run): usually no row, found without a scan.
    index("tenants_schema_version_idx").on(t.schemaVersion, t.id),
  ],
);
