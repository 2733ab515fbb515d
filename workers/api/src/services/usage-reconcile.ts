import { coreConfig, stripeClient } from "@tenantry/core";
import { CATALOG, isMeteredMetric } from "@tenantry/plans";
import type { Env } from "../env";
import { flushAdmissions } from "../meter/admission";
import { meterFor } from "../meter/client";

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
  ok: boolean;
}

const MINUTE = 60_000;

/**
 * Compares, per tenant, metric and period, the meter's totals, the usage ledger and (for metered
 * metrics of tenants with a Stripe customer) the Stripe meter event summaries. `flush` first
 * sends every meter's pending usage to the queue, so what remains is in flight or lost.
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
    const meter = meterFor(env, tenant.id);
    if (opts.flush) await meter.flush();
    for (const total of await meter.totals()) {
      const ledger = await env.CONTROL_DB.prepare(
        `SELECT COALESCE(SUM(delta), 0) AS delta, COALESCE(SUM(billable), 0) AS billable
         FROM usage_ledger WHERE tenant_id = ? AND metric = ? AND window_start >= ? AND window_start < ?`,
      )
        .bind(tenant.id, total.metric, total.period_start, total.period_end)
        .first<{ delta: number; billable: number }>();
      let stripeTotal: number | null = null;
      let ledgerBillable: number | null = null;
      if (stripe && tenant.stripe_customer_id && isMeteredMetric(total.metric)) {
        ledgerBillable = ledger?.billable ?? 0;
        const eventName = CATALOG.meters[total.metric].eventName;
        const stripeMeter = meters.find((m) => m.event_name === eventName);
        stripeTotal = 0;
        if (stripeMeter) {
          // Summaries take minute-aligned bounds; a period's windows start at or after its
          // start, and the next period's at or after its end, so flooring both is exact.
          const summaries = await stripe.billing.meters.listEventSummaries(stripeMeter.id, {
            customer: tenant.stripe_customer_id,
            start_time: Math.floor(total.period_start / MINUTE) * 60,
            end_time: Math.floor(total.period_end / MINUTE) * 60,
          });
          stripeTotal = summaries.data.reduce((sum, s) => sum + s.aggregated_value, 0);
        }
      }
      const row: ReconcileRow = {
        tenant_id: tenant.id,
        metric: total.metric,
        period_start: new Date(total.period_start).toISOString(),
        period_end: new Date(total.period_end).toISOString(),
        meter: total.used,
        ledger: ledger?.delta ?? 0,
        ledger_billable: ledgerBillable,
        stripe: stripeTotal,
        ok: total.used === (ledger?.delta ?? 0) && ledgerBillable === stripeTotal,
      };
      rows.push(row);
    }
  }
  return { rows, mismatches: rows.filter((r) => !r.ok) };
}
