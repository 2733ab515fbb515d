import {
  controlDb,
  effectivePlan,
  log,
  meterFor,
  readBilling,
  tenantDb,
  tenantEntitlements,
} from "@tenantry/core";
import { LIMIT_DEFINITIONS, type LimitKey } from "@tenantry/plans";
import { usageLedger, users } from "@tenantry/schema/control";
import { auditLog, members } from "@tenantry/schema/tenant";
import { and, asc, desc, eq, gte, sql, sum } from "drizzle-orm";
import type { OperatorContext } from "../context";
import { listOverrides } from "./overrides";
import { findTenant } from "./tenants";

const DAY = 86_400_000;
/** Days of ledger usage on the detail page. */
export const USAGE_DAYS = 30;
const MEMBERS_LIMIT = 100;
const AUDIT_LIMIT = 20;

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

/** One metric's usage: a point per UTC day (zero-filled), as a chart or a table takes it. */
export interface UsageSeries {
  metric: string;
  days: { day: string; used: number }[];
}

/** Usage per metric per UTC day from the control usage ledger (what the meters flushed). */
async function ledgerUsage(ctx: OperatorContext, tenantId: string, now: number) {
  const from = now - (now % DAY) - (USAGE_DAYS - 1) * DAY;
  // D1 binds JS numbers as REAL, so `/ DAY` would not round down to the day; `%` works on
  // integers in SQLite whatever the operands' type.
  const day = sql<number>`${usageLedger.windowStart} - ${usageLedger.windowStart} % ${DAY}`;
  const rows = await controlDb(ctx.env)
    .select({
      metric: usageLedger.metric,
      day,
      used: sum(usageLedger.delta).mapWith(Number),
    })
    .from(usageLedger)
    .where(and(eq(usageLedger.tenantId, tenantId), gte(usageLedger.windowStart, from)))
    .groupBy(usageLedger.metric, day);
  const counters = (Object.keys(LIMIT_DEFINITIONS) as LimitKey[]).filter(
    (m) => LIMIT_DEFINITIONS[m].kind === "counter",
  );
  const metrics = [...new Set([...counters, ...rows.map((r) => r.metric)])];
  return metrics.map(
    (metric): UsageSeries => ({
      metric,
      days: Array.from({ length: USAGE_DAYS }, (_, i) => {
        const at = from + i * DAY;
        const used = rows
          .filter((r) => r.metric === metric && r.day === at)
          .reduce((n, r) => n + r.used, 0);
        return { day: new Date(at).toISOString().slice(0, 10), used };
      }),
    }),
  );
}

/** The meter's own totals for the period running now (it is ahead of the ledger). */
async function meterPeriod(ctx: OperatorContext, tenantId: string, now: number) {
  if (!ctx.env.TENANT_METER) return null;
  try {
    const totals = await meterFor(ctx.env.TENANT_METER, tenantId).totals();
    return totals
      .filter((t) => t.period_start <= now && now < t.period_end)
      .map((t) => ({
        metric: t.metric,
        period_start: iso(t.period_start),
        period_end: iso(t.period_end),
        used: t.used,
      }));
  } catch (err) {
    log.forTenant(tenantId).warn("meter totals unavailable", { error: String(err) });
    return null;
  }
}

/** What the tenant's own database holds: members (read-only) and the newest audit entries. */
async function tenantPlane(ctx: OperatorContext, tenant: Awaited<ReturnType<typeof findTenant>>) {
  if (!tenant.databaseBinding) return { members: [], audit: [] };
  const { orm } = tenantDb(ctx.env, tenant);
  const [memberRows, auditRows] = await Promise.all([
    orm.select().from(members).orderBy(asc(members.createdAt)).limit(MEMBERS_LIMIT),
    orm.select().from(auditLog).orderBy(desc(auditLog.id)).limit(AUDIT_LIMIT),
  ]);
  return {
    members: memberRows.map((m) => ({
      id: m.id,
      user_id: m.userId,
      email: m.email,
      role: m.role,
      created_at: iso(m.createdAt),
    })),
    audit: auditRows.map((a) => ({
      id: a.id,
      action: a.action,
      actor: { type: a.actorType, id: a.actorId },
      target: { type: a.targetType, id: a.targetId },
      before: a.before ? JSON.parse(a.before) : null,
      after: a.after ? JSON.parse(a.after) : null,
      request_id: a.requestId,
      created_at: iso(a.createdAt),
    })),
  };
}

/**
 * Everything an operator needs about one tenant: the registry row, Stripe's state and the access
 * it gives, entitlements with the overrides behind them, members, recent tenant audit, and usage
 * (ledger per day, meter for the current period).
 */
export async function getTenantDetail({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { id: string };
}) {
  const tenant = await findTenant(ctx, input.id);
  const now = Date.now();
  const [owner, billing, entitlements, overrides, plane, usage, meter] = await Promise.all([
    controlDb(ctx.env)
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, tenant.ownerUserId))
      .get(),
    readBilling(ctx.env, tenant.id),
    tenantEntitlements(ctx.env, tenant.id, now),
    listOverrides({ ctx, input: { tenantId: tenant.id } }),
    tenantPlane(ctx, tenant),
    ledgerUsage(ctx, tenant.id, now),
    meterPeriod(ctx, tenant.id, now),
  ]);
  const effective = effectivePlan(ctx.env, billing, now);
  return {
    tenant: {
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      status: tenant.status,
      plan: tenant.plan,
      access: tenant.access,
      owner_user_id: tenant.ownerUserId,
      owner_email: owner?.email ?? null,
      database_binding: tenant.databaseBinding,
      schema_version: tenant.schemaVersion,
      region: tenant.region,
      stripe_customer_id: tenant.stripeCustomerId,
      provisioning_step: tenant.provisioningStep,
      provisioning_error: tenant.provisioningError,
      created_at: iso(tenant.createdAt),
      updated_at: iso(tenant.updatedAt),
    },
    billing: {
      /** What billing allows now, evaluated at this request (the registry's `access` may lag). */
      access: effective.access,
      effective_plan: effective.plan,
      grace_ends_at: iso(effective.graceEndsAt),
      subscription: billing
        ? {
            id: billing.stripeSubscriptionId,
            status: billing.status,
            plan: billing.plan,
            interval: billing.interval,
            current_period_end: iso(billing.currentPeriodEnd),
            cancel_at_period_end: billing.cancelAtPeriodEnd,
            trial_end: iso(billing.trialEnd),
            past_due_since: iso(billing.pastDueSince),
            synced_at: iso(billing.syncedAt),
          }
        : null,
    },
    entitlements,
    overrides,
    members: plane.members,
    audit: plane.audit,
    usage: { days: USAGE_DAYS, ledger: usage, meter_period: meter },
  };
}
