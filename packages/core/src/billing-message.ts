import { z } from "zod";

/**
 * A BILLING queue message: a hint to re-sync one Stripe customer's billing state, sent by the
 * webhook intake and its sweep, and by operators' re-syncs and replays (apps/admin); consumed
 * by the webhooks worker, which parses it with this schema.
 */
export const BillingMessageSchema = z.object({
  /** The ledger row (`stripe_events.id`) the consumer marks with the outcome. */
  event_id: z.string().min(1),
  event_type: z.string(),
  customer_id: z.string().min(1),
  /** The customer's tenant when the sender knew it; the consumer looks it up again. */
  tenant_id: z.string().nullable(),
  /** When the hint was sent (epoch ms); a sync started later already reflects it. */
  received_at: z.number(),
});
export type BillingMessage = z.infer<typeof BillingMessageSchema>;
