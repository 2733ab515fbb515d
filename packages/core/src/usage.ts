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
  seq: number;
  delta: number;
  /** Units above the included amount, for metrics billed by a metered price. */
  billable: number;
}
