import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The usage ledger: every delta a tenant meter flushed, once. The key `tenant:metric:seq` is
 * decided by the meter before the first send, so redelivered messages insert nothing new; the
 * same key is the Stripe meter event's identifier and idempotency key.
 */
export const usageLedger = sqliteTable(
  "usage_ledger",
  {
    key: text("key").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    metric: text("metric").notNull(),
    /** Start of the hour the usage falls in (epoch ms). */
    windowStart: integer("window_start").notNull(),
    /**
     * Start of the meter period the usage counts in (epoch ms), as the meter decided it. Periods
     * can overlap when a first subscription moves them to the billing anchor, so reconciliation
     * groups by this, not by window. Null for rows written before it was carried.
     */
    periodStart: integer("period_start"),
    seq: integer("seq").notNull(),
    delta: integer("delta").notNull(),
    /** Units above the included amount, reported to Stripe for metered metrics. */
    billable: integer("billable").notNull(),
    createdAt: integer("created_at").notNull(),
    /** When Stripe accepted the meter event (or said it already had it); null if not billed. */
    reportedAt: integer("reported_at"),
    /**
     * When the row was given up on: Stripe refuses its meter event for good (older than 35 days,
     * or an invalid request). The sweep skips it; `usage:reconcile` shows it.
     */
    deadAt: integer("dead_at"),
    /** Why it was given up on. */
    reportError: text("report_error"),
  },
  (t) => [index("usage_ledger_tenant_metric_idx").on(t.tenantId, t.metric, t.windowStart)],
);
