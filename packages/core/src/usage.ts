/**
 * A USAGE queue message: one outbox row of a tenant meter (the API worker's TenantMeter),
 * consumed by the metering worker.
 */
export interface UsageMessage {
  /** `tenant:metric:seq`, fixed before the first send: ledger key, meter event identifier, idempotency key. */
  key: string;
  tenant_id: string;
  metric: string;
  /** Start of the hour the usage falls in (epoch ms). */
  window_start: number;
  /**
   * Start of the meter period the usage counts in (epoch ms). Periods overlap when a first
   * subscription moves them to the billing anchor, so the window alone does not say which.
   * Absent from messages of meters that predate it.
   */
  period_start?: number | null;
  seq: number;
  delta: number;
  /** Units above the included amount, for metrics billed by a metered price. */
  billable: number;
}
