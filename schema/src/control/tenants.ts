import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamps } from "../columns";

/**
 * `reclaiming`: an unverified sign-up past its window, out of service and about to be removed
 * (its database wiped and returned to the pool) by the reclaim job.
 */
export const TENANT_STATUSES = ["provisioning", "active", "suspended", "reclaiming"] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** The tenant registry. The row names the tenant's database; a request never does. */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  status: text("status", { enum: TENANT_STATUSES }).notNull(),
  plan: text("plan"),
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
});
