import { coreConfig, meterFor, stripeClient } from "@tenantry/core";
import { CATALOG, isMeteredMetric } from "@tenantry/plans";
import type { Env } from "../env";
import { flushAdmissions } from "../meter/admission";

export interface ReconcileRow {
  tenant_id: string;
  metric: string;
  period_start: string;
  period_end: string;
  /** The meter's count: the authority. */
  meter: number;
  /** Sum of the ledger's deltas in the period. */
  ledger: number;
  /** Billable units in the ledger, and what Stripe's meter event summaries say (metered metrics). */
  ledger_billable: number | null;
  stripe: number | null;
  /** Ledger rows of the period given up on (Stripe refuses their meter events), and their units. */
  dead_rows: number;
  dead_billable: number;
  /**
   * `ok`; `dead_lettered` when everything agrees except the units Stripe refused for good;
   * `mismatch` otherwise (usage still in flight, or lost).
   */
  status: "ok" | "dead_lettered" | "mismatch";
  ok: boolean;
}

const MINUTE = 60_000;

/**
 * Compares, per tenant, metric and period, the meter's totals, the usage ledger and (for metered
 * metrics of tenants with a Stripe customer) the Stripe meter event summaries. `flush` first
 * sends every meter's pending usage to the queue, so what remains is in flight or lost.
 *
 * Periods of one tenant overlap when a first subscription moves them from calendar months to
 * the billing anchor, so ledger rows are matched to a period by the period start the meter gave
 * them, never by time range (rows from before that was carried fall back to the range).
 */
export async function reconcileUsage(
  env: Env,
  opts: { flush?: boolean } = {},
): Promise<{ rows: ReconcileRow[]; mismatches: ReconcileRow[] }> {
  // This isolate's admissions reach the meters first, so their API calls are in the totals.
  if (opts.flush) await flushAdmissions(env);
  const tenants = await env.CONTROL_DB.prepare(
    "SELECT id, stripe_customer_id FROM tenants WHERE status = 'active' ORDER BY id",
  ).all<{ id: string; stripe_customer_id: string | null }>();
  const stripe = stripeClient(coreConfig(env));
  const meters = stripe
    ? (await stripe.billing.meters.list({ status: "active", limit: 100 })).data
    : [];
  const rows: ReconcileRow[] = [];
  for (const tenant of tenants.results) {
    const meter = meterFor(env.TENANT_METER, tenant.id);
    if (opts.flush) await meter.flush();
    for (const total of await meter.totals()) {
      const ledger = await env.CONTROL_DB.prepare(
        `SELECT COALESCE(SUM(delta), 0) AS delta, COALESCE(SUM(billable), 0) AS billable,
           COUNT(dead_at) AS dead_rows,
           COALESCE(SUM(CASE WHEN dead_at IS NOT NULL THEN billable END), 0) AS dead_billable,
           MIN(window_start) AS first_window, MAX(window_start) AS last_window
         FROM usage_ledger WHERE tenant_id = ?1 AND metric = ?2 AND (period_start = ?3
           OR (period_start IS NULL AND window_start >= ?3 AND window_start < ?4))`,
      )
        .bind(tenant.id, total.metric, total.period_start, total.period_end)
        .first<{
          delta: number;
          billable: number;
          dead_rows: number;
          dead_billable: number;
          first_window: number | null;
          last_window: number | null;
        }>();
      const counted = {
        delta: ledger?.delta ?? 0,
        billable: ledger?.billable ?? 0,
        deadRows: ledger?.dead_rows ?? 0,
        deadBillable: ledger?.dead_billable ?? 0,
      };
      let stripeTotal: number | null = null;
      let ledgerBillable: number | null = null;
      if (stripe && tenant.stripe_customer_id && isMeteredMetric(total.metric)) {
        ledgerBillable = counted.billable;
        const eventName = CATALOG.meters[total.metric].eventName;
        const stripeMeter = meters.find((m) => m.event_name === eventName);
        stripeTotal = 0;
        if (stripeMeter) {
          // A meter event's timestamp is its window's start. Stripe sums by time, and periods can
          // overlap, so it is asked about the minutes from the period's first to its last ledger
          // window (the meter moves forward: another period's windows are not in between).
          const from = ledger?.first_window ?? total.period_start;
          const to = ledger?.last_window ?? total.period_end - MINUTE;
          const summaries = await stripe.billing.meters.listEventSummaries(stripeMeter.id, {
            customer: tenant.stripe_customer_id,
            start_time: Math.floor(from / MINUTE) * 60,
            end_time: Math.floor(to / MINUTE) * 60 + 60,
          });
          stripeTotal = summaries.data.reduce((sum, s) => sum + s.aggregated_value, 0);
        }
      }
      const agrees =
        total.used === counted.delta &&
        (ledgerBillable === null || ledgerBillable - counted.deadBillable === stripeTotal);
      const status = !agrees ? "mismatch" : counted.deadRows > 0 ? "dead_lettered" : "ok";
      rows.push({
        tenant_id: tenant.id,
        metric: total.metric,
        period_start: new Date(total.period_start).toISOString(),
        period_end: new Date(total.period_end).toISOString(),
        meter: total.used,
        ledger: counted.delta,
        ledger_billable: ledgerBillable,
        stripe: stripeTotal,
        dead_rows: counted.deadRows,
        dead_billable: counted.deadBillable,
        status,
        ok: status === "ok",
      });
    }
  }
  return { rows, mismatches: rows.filter((r) => !r.ok) };
}
