import { z } from "zod";

/**
 * A USAGE queue message: one outbox row of a tenant meter (the API worker's TenantMeter),
 * consumed by the metering worker, which parses it with this schema.
 */
export const UsageMessageSchema = z.object({
  /** `tenant:metric:seq`, fixed before the first send: ledger key, meter event identifier, idempotency key. */
  key: z.string().min(1),
  tenant_id: z.string().min(1),
  metric: z.string().min(1),
  /** Start of the hour the usage falls in (epoch ms). */
  window_start: z.number().int(),
  /**
   * Start of the meter period the usage counts in (epoch ms). Periods overlap when a first
   * subscription moves them to the billing anchor, so the window alone does not say which.
   * Absent from messages of meters that predate it.
   */
  period_start: z.number().int().nullish(),
  seq: z.number().int(),
  delta: z.number(),
  /** Units above the included amount, for metrics billed by a metered price. */
  billable: z.number(),
});
export type UsageMessage = z.infer<typeof UsageMessageSchema>;
