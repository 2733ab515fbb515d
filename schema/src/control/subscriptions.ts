import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Each tenant's billing state as last read from Stripe (the payment authority). Written only by
 * the re-sync, which re-fetches the customer's subscriptions and applies them if the fetch is
 * newer than `synced_at`, so any order of webhooks and redirects converges.
 */
export const subscriptions = sqliteTable("subscriptions", {
  tenantId: text("tenant_id").primaryKey(),
  stripeCustomerId: text("stripe_customer_id").notNull(),
  stripeSubscriptionId: text("stripe_subscription_id"),
  /** Stripe's subscription status; null when the customer has no subscription. */
  status: text("status"),
  plan: text("plan").notNull(),
  interval: text("interval"),
  currentPeriodEnd: integer("current_period_end"),
  cancelAtPeriodEnd: integer("cancel_at_period_end", { mode: "boolean" }).notNull().default(false),
  trialEnd: integer("trial_end"),
  /** When the subscription entered past_due; starts the grace period. */
  pastDueSince: integer("past_due_since"),
  /** Epoch ms at which the Stripe state written here was fetched. */
  syncedAt: integer("synced_at").notNull(),
  /**
   * The plan, status and access last written to the registry and the tenant's audit log (JSON).
   * A change is recorded when the synced state differs from it, so a retry after a crash still
   * records the change once.
   */
  recordedState: text("recorded_state"),
  /** The audit entry id reserved for the change being recorded; reused by retries. */
  pendingAuditId: text("pending_audit_id"),
});
