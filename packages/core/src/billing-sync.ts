import { CATALOG, type PlanId, parseLookupKey } from "@tenantry/plans";
import { newId } from "@tenantry/schema";
import { subscriptions, tenants } from "@tenantry/schema/control";
import { auditLog } from "@tenantry/schema/tenant";
import { and, eq, lt, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { auditEntry } from "./audit";
import { type BillingRow, effectivePlan, readBilling } from "./billing-state";
import { controlDb } from "./control-db";
import { type CoreEnv, coreConfig } from "./env";
import { log } from "./log";
import { meterFor } from "./meter-contract";
import { type NotifyInput, notification } from "./notifications";
import { stripeClient } from "./stripe";
import { tenantDb } from "./tenant-db";

export type BillingTenant = Pick<
  typeof tenants.$inferSelect,
  "id" | "plan" | "databaseBinding" | "stripeCustomerId"
>;

export interface SyncContext {
  requestId: string;
  ip: string | null;
}

// Subscriptions still in play win over ended ones when a customer has several.
const LIVE = new Set(["active", "trialing", "past_due", "unpaid", "paused", "incomplete"]);

function pickSubscription(subs: Stripe.Subscription[]): Stripe.Subscription | null {
  const byNewest = [...subs].sort((a, b) => b.created - a.created);
  return byNewest.find((s) => LIVE.has(s.status)) ?? byNewest[0] ?? null;
}

function planOf(sub: Stripe.Subscription | null): { plan: PlanId; interval: string | null } {
  for (const item of sub?.items.data ?? []) {
    const parsed = item.price.lookup_key ? parseLookupKey(item.price.lookup_key) : null;
    if (parsed?.kind === "licensed") return { plan: parsed.plan, interval: parsed.interval };
  }
  return { plan: "free", interval: null };
}

/**
 * Re-fetches the customer's subscriptions from Stripe and applies them if this fetch is newer
 * than what is stored (so concurrent or out-of-order syncs converge), then records a change of
 * plan, status or access in the registry and the tenant's audit log. Webhooks, the checkout
 * redirect and the sweep are only hints to call this.
 */
export async function syncTenantBilling(
  env: CoreEnv,
  tenant: BillingTenant,
  ctx: SyncContext,
): Promise<BillingRow | null> {
  const stripe = stripeClient(coreConfig(env));
  if (!stripe || !tenant.stripeCustomerId) return readBilling(env, tenant.id);
  const fetchedAt = Date.now();
  const list = await stripe.subscriptions.list({
    customer: tenant.stripeCustomerId,
    status: "all",
    limit: 20,
  });
  const sub = pickSubscription(list.data);
  const { plan, interval } = planOf(sub);
  const before = await readBilling(env, tenant.id);
  const item = sub?.items.data[0];
  const pastDueSince =
    sub?.status === "past_due"
      ? before?.status === "past_due"
        ? before.pastDueSince
        : fetchedAt
      : null;
  const state = {
    stripeCustomerId: tenant.stripeCustomerId,
    stripeSubscriptionId: sub?.id ?? null,
    status: sub?.status ?? null,
    plan,
    interval,
    currentPeriodEnd: item?.current_period_end ? item.current_period_end * 1000 : null,
    cancelAtPeriodEnd: Boolean(sub?.cancel_at_period_end),
    trialEnd: sub?.trial_end ? sub.trial_end * 1000 : null,
    pastDueSince,
    syncedAt: fetchedAt,
  };
  // Applied only if this fetch is newer than what is stored: concurrent syncs converge.
  const [applied] = await controlDb(env)
    .insert(subscriptions)
    .values({ tenantId: tenant.id, ...state })
    .onConflictDoUpdate({
      target: subscriptions.tenantId,
      set: state,
      setWhere: lt(subscriptions.syncedAt, fetchedAt),
    })
    .returning();
  const row = applied ?? (await readBilling(env, tenant.id));
  if (row) await recordBillingChange(env, tenant, row, ctx);
  return row;
}

interface RecordedState {
  plan: PlanId;
  status: string | null;
  access: string;
}

/**
 * Writes a change of plan, status or access to the registry and the tenant's audit log, once.
 * The audit id is reserved in the control plane first, so a retry after a crash between the two
 * databases rewrites the same entry instead of adding another. Time alone can change access (a
 * grace period ends), which is why the sweep calls this for past_due tenants too.
 */
export async function recordBillingChange(
  env: CoreEnv,
  tenant: BillingTenant,
  row: BillingRow,
  ctx: SyncContext,
  now = Date.now(),
): Promise<boolean> {
  const effective = effectivePlan(env, row, now);
  const next: RecordedState = {
    plan: effective.plan,
    status: row.status,
    access: effective.access,
  };
  const last: RecordedState = row.recordedState
    ? (JSON.parse(row.recordedState) as RecordedState)
    : // Never recorded: what a tenant without a subscription has.
      {
        plan: (tenant.plan ?? "free") as PlanId,
        status: null,
        access: effectivePlan(env, null).access,
      };
  if (last.plan === next.plan && last.status === next.status && last.access === next.access) {
    return false;
  }
  const db = controlDb(env);
  // Reserved only while the recorded state is still the one this call read: a call racing one
  // that already recorded this change finds it moved on and records (and notifies) nothing.
  const [reserved] = await db
    .update(subscriptions)
    .set({ pendingAuditId: sql`COALESCE(${subscriptions.pendingAuditId}, ${newId("audit", now)})` })
    .where(
      and(
        eq(subscriptions.tenantId, tenant.id),
        sql`${subscriptions.recordedState} IS ${row.recordedState}`,
      ),
    )
    .returning({ pendingAuditId: subscriptions.pendingAuditId });
  if (!reserved?.pendingAuditId) return false;
  const entry = {
    id: reserved.pendingAuditId,
    action: "billing.update" as const,
    target: { type: "tenant", id: tenant.id },
    before: { ...last },
    after: { ...next },
  };
  const tdb = tenantDb(env, tenant);
  // The notifications' keys derive from the reserved audit id: a retry does not notify twice.
  await tdb.orm.batch([
    auditEntry(
      { db: tdb, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "system", id: "stripe" } },
      entry,
    ).onConflictDoUpdate({ target: auditLog.id, set: { after: JSON.stringify(next) } }),
    ...billingNotices(last, next, entry.id).map((n) => notification(tdb, n)),
  ]);
  await db.batch([
    db
      .update(tenants)
      .set({
        plan: next.plan,
        // The registry tells grace apart, so operators can find tenants whose payment is failing.
        access: effective.graceEndsAt !== null ? "grace" : effective.access,
        updatedAt: now,
      })
      .where(eq(tenants.id, tenant.id)),
    db
      .update(subscriptions)
      .set({ recordedState: JSON.stringify(next), pendingAuditId: null })
      .where(eq(subscriptions.tenantId, tenant.id)),
  ]);
  await refreshMeter(env, tenant.id);
  return true;
}

const FAILING = new Set(["past_due", "unpaid"]);

/** What a recorded billing change tells the tenant's people (ADR 019). */
function billingNotices(last: RecordedState, next: RecordedState, changeId: string): NotifyInput[] {
  const notices: NotifyInput[] = [];
  if (next.status && FAILING.has(next.status) && !FAILING.has(last.status ?? "")) {
    notices.push({
      kind: "billing.payment_failed",
      dedupeKey: `billing.payment_failed:${changeId}`,
      title: "Payment failed: the subscription is past due",
      body: "Update the payment method in the billing portal to keep full access.",
      link: "/billing",
    });
  }
  if (last.plan !== next.plan) {
    notices.push({
      kind: "billing.plan_changed",
      dedupeKey: `billing.plan_changed:${changeId}`,
      title: `Plan changed to ${CATALOG.plans[next.plan].name}`,
      body: `The organization moved from ${CATALOG.plans[last.plan].name} to ${CATALOG.plans[next.plan].name}.`,
      link: "/billing",
    });
  }
  return notices;
}

/**
 * Tells the tenant's meter to re-read its limits now, so a plan change moves its quotas at once
 * (the meter also re-reads them every minute, which covers a failed call).
 */
export async function refreshMeter(env: CoreEnv, tenantId: string): Promise<void> {
  if (!env.TENANT_METER) return;
  try {
    await meterFor(env.TENANT_METER, tenantId).refresh(tenantId);
  } catch (err) {
    log.forTenant(tenantId).warn("meter refresh failed; it re-reads within a minute", {
      error: String(err),
    });
  }
}
