import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const STRIPE_EVENT_STATES = [
  /** Verified and enqueued; the consumer has not finished with it. */
  "queued",
  /** The customer's billing state was re-synced after this event arrived. */
  "processed",
  /** No tenant has this Stripe customer (or the event names none); recorded, not retried. */
  "ignored",
  /** Every attempt failed; the message is in the dead-letter queue and `error` says why. */
  "failed",
] as const;

/**
 * The Stripe event ledger. The webhook intake inserts each verified event once (insert-or-ignore
 * on the event id), so duplicate deliveries are recognised; events are only hints to re-sync the
 * customer, so nothing else of the payload is kept.
 */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    customerId: text("customer_id"),
    tenantId: text("tenant_id"),
    /** When Stripe created the event (epoch ms). */
    createdAt: integer("created_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    /**
     * How the event reached us: `webhook`, `backfill` by the sweep from Stripe's events list, or
     * `operator` (a re-sync an operator asked for: not a Stripe event, id `rsy_…`).
     */
    source: text("source").notNull(),
    state: text("state", { enum: STRIPE_EVENT_STATES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    processedAt: integer("processed_at"),
    /** The operator audit entry of the last replay of this event (failed → queued). */
    replayAuditId: text("replay_audit_id"),
  },
  (t) => [
    index("stripe_events_state_idx").on(t.state, t.receivedAt),
    index("stripe_events_customer_idx").on(t.customerId),
    // The operators' ledger pages: newest first, platform-wide and per tenant.
    index("stripe_events_received_idx").on(t.receivedAt, t.id),
    index("stripe_events_tenant_idx").on(t.tenantId, t.receivedAt, t.id),
  ],
);
