import { CATALOG, isMeteredMetric } from "@tenantry/plans";
import { tenants, usageLedger } from "@tenantry/schema/control";
import { and, eq, gte, isNull, lt, or, sql } from "drizzle-orm";
import { controlDb } from "./control-db";
import { type CoreEnv, coreConfig } from "./env";
import { meterFor } from "./meter-contract";
import { stripeClient } from "./stripe";

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

export interface UsageReconcile {
  rows: ReconcileRow[];
  mismatches: ReconcileRow[];
}

const MINUTE = 60_000;

/**
 * Compares, per tenant, metric and period, the meter's totals, the usage ledger and (for metered
 * metrics of tenants with a Stripe customer) the Stripe meter event summaries, for every active
 * tenant or only `tenantId`. `flush` first sends each meter's pending usage to the queue, so what
 * remains is in flight or lost (the API worker also flushes its isolate's admissions first).
 *
 * Periods of one tenant overlap when a first subscription moves them from calendar months to
 * the billing anchor, so ledger rows are matched to a period by the period start the meter gave
 * them, never by time range (rows from before that was carried fall back to the range).
 */
export async function reconcileUsage(
  env: CoreEnv,
  opts: { flush?: boolean; tenantId?: string } = {},
): Promise<UsageReconcile> {
  const namespace = env.TENANT_METER;
  if (!namespace) throw new Error("usage reconcile needs the TENANT_METER binding");
  const active = await controlDb(env)
    .select({ id: tenants.id, stripe_customer_id: tenants.stripeCustomerId })
    .from(tenants)
    .where(
      and(eq(tenants.status, "active"), opts.tenantId ? eq(tenants.id, opts.tenantId) : undefined),
    )
    .orderBy(tenants.id);
  const stripe = stripeClient(coreConfig(env));
  const meters = stripe
    ? (await stripe.billing.meters.list({ status: "active", limit: 100 })).data
    : [];
  const rows: ReconcileRow[] = [];
  for (const tenant of active) {
    const meter = meterFor(namespace, tenant.id);
    if (opts.flush) await meter.flush();
    for (const total of await meter.totals()) {
      const l = usageLedger;
      const ledger = await controlDb(env)
        .select({
          delta: sql<number>`COALESCE(SUM(${l.delta}), 0)`,
          billable: sql<number>`COALESCE(SUM(${l.billable}), 0)`,
          dead_rows: sql<number>`COUNT(${l.deadAt})`,
          dead_billable: sql<number>`COALESCE(SUM(CASE WHEN ${l.deadAt} IS NOT NULL THEN ${l.billable} END), 0)`,
          first_window: sql<number | null>`MIN(${l.windowStart})`,
          last_window: sql<number | null>`MAX(${l.windowStart})`,
        })
        .from(l)
        .where(
          and(
            eq(l.tenantId, tenant.id),
            eq(l.metric, total.metric),
            // Rows from before period_start was recorded fall back to the window range.
            or(
              eq(l.periodStart, total.period_start),
              and(
                isNull(l.periodStart),
                gte(l.windowStart, total.period_start),
                lt(l.windowStart, total.period_end),
              ),
            ),
          ),
        )
        .get();
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
