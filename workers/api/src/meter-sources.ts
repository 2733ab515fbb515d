import { type BillingRow, notify, readBilling, tenantDb, tenantEntitlements } from "@tenantry/core";
import { LIMIT_DEFINITIONS, type LimitKey } from "@tenantry/plans";
import { members } from "@tenantry/schema/tenant";
import { getTableName } from "drizzle-orm";
import type { Env } from "./env";
import type { MeterSources } from "./meter/sources";
import { productGauges } from "./platform";
import { findTenantById } from "./services/registry";

/**
 * The tenant table each gauge counts, the only place the meter learns them: seats count members,
 * and the product's gauges count the tables its registration names (`product/index.ts`).
 */
const GAUGE_TABLES: Partial<Record<LimitKey, string>> = Object.fromEntries(
  Object.entries({ seats: members, ...productGauges }).map(([metric, table]) => [
    metric,
    getTableName(table),
  ]),
);

/**
 * Where monthly usage periods turn: the live subscription's period end (its billing anchor), or
 * calendar months (null) without one.
 */
export function periodAnchor(billing: BillingRow | null): number | null {
  const live = billing?.status && !["canceled", "incomplete_expired"].includes(billing.status);
  return live ? (billing?.currentPeriodEnd ?? null) : null;
}

/** What a tenant's meter reads from the control plane and the tenant's database. */
export function meterSources(env: Env): MeterSources {
  return {
    entitlements: {
      async read(tenantId, now) {
        const [value, billing] = await Promise.all([
          tenantEntitlements(env, tenantId, now),
          readBilling(env, tenantId),
        ]);
        return { value, anchor: periodAnchor(billing) };
      },
    },
    gauges: {
      async count(tenantId, metric) {
        const table = GAUGE_TABLES[metric];
        // A catalog gauge the product registers no table for (e.g. `projects` without the
        // example product) has nothing to derive from.
        if (!table) return null;
        const tenant = await findTenantById(env, tenantId);
        // A tenant still being provisioned has no database yet: nothing to count.
        if (!tenant?.databaseBinding) return 0;
        // Raw on purpose: the table comes from the product registration (GAUGE_TABLES).
        const row = await tenantDb(env, tenant)
          .d1.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`)
          .bind(tenant.id)
          .first<{ n: number }>();
        return row?.n ?? 0;
      },
    },
    notices: {
      async thresholdReached(tenantId, { metric, periodStart, periodEnd, percent, quota }) {
        const tenant = await findTenantById(env, tenantId);
        // Gone (reclaimed) or not provisioned: nobody left to tell.
        if (!tenant?.databaseBinding) return;
        const what = LIMIT_DEFINITIONS[metric].description;
        await notify(tenantDb(env, tenant), {
          kind: "usage.threshold",
          dedupeKey: `usage:${metric}:${periodStart}:${percent}`,
          title:
            percent >= 100
              ? `Quota reached: ${metric} (${quota.toLocaleString("en")})`
              : `${percent}% of the ${metric} quota used`,
          body: `${what[0]?.toUpperCase()}${what.slice(1)}: ${percent}% of ${quota.toLocaleString("en")} this period (resets ${new Date(periodEnd).toISOString().slice(0, 10)}).`,
          link: "/usage",
        });
      },
    },
  };
}
