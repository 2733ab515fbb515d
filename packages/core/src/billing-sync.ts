import { type PlanId, parseLookupKey } from "@tenantry/plans";
import { newId } from "@tenantry/schema";
import type { tenants } from "@tenantry/schema/control";
import { auditLog } from "@tenantry/schema/tenant";
import type Stripe from "stripe";
import { auditEntry } from "./audit";
import { type BillingRow, effectivePlan, readBilling } from "./billing-state";
import { type CoreEnv, coreConfig } from "./env";
import { meterFor } from "./meter-contract";
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
        ? before.past_due_since
        : fetchedAt
      : null;
  const applied = await env.CONTROL_DB.prepare(
    `INSERT INTO subscriptions (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan, interval,
       current_period_end, cancel_at_period_end, trial_end, past_due_since, synced_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = ?2, stripe_subscription_id = ?3, status = ?4,
       plan = ?5, interval = ?6, current_period_end = ?7, cancel_at_period_end = ?8, trial_end = ?9,
       past_due_since = ?10, synced_at = ?11
     WHERE subscriptions.synced_at < ?11
     RETURNING *`,
  )
    .bind(
      tenant.id,
      tenant.stripeCustomerId,
      sub?.id ?? null,
      sub?.status ?? null,
      plan,
      interval,
      item?.current_period_end ? item.current_period_end * 1000 : null,
      sub?.cancel_at_period_end ? 1 : 0,
      sub?.trial_end ? sub.trial_end * 1000 : null,
      pastDueSince,
      fetchedAt,
    )
    .first<BillingRow>();
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
  const last: RecordedState = row.recorded_state
    ? (JSON.parse(row.recorded_state) as RecordedState)
    : // Never recorded: what a tenant without a subscription has.
      {
        plan: (tenant.plan ?? "free") as PlanId,
        status: null,
        access: effectivePlan(env, null).access,
      };
  if (last.plan === next.plan && last.status === next.status && last.access === next.access) {
    return false;
  }
  const reserved = await env.CONTROL_DB.prepare(
    "UPDATE subscriptions SET pending_audit_id = COALESCE(pending_audit_id, ?) WHERE tenant_id = ? RETURNING pending_audit_id",
  )
    .bind(newId("audit", now), tenant.id)
    .first<{ pending_audit_id: string }>();
  const entry = {
    id: reserved?.pending_audit_id ?? newId("audit", now),
    action: "billing.update" as const,
    target: { type: "tenant", id: tenant.id },
    before: { ...last },
    after: { ...next },
  };
  await auditEntry(
    {
      db: tenantDb(env, tenant),
      requestId: ctx.requestId,
      ip: ctx.ip,
      actor: { type: "system", id: "stripe" },
    },
    entry,
  ).onConflictDoUpdate({ target: auditLog.id, set: { after: JSON.stringify(next) } });
  await env.CONTROL_DB.batch([
    env.CONTROL_DB.prepare("UPDATE tenants SET plan = ?, updated_at = ? WHERE id = ?").bind(
      next.plan,
      now,
      tenant.id,
    ),
    env.CONTROL_DB.prepare(
      "UPDATE subscriptions SET recorded_state = ?, pending_audit_id = NULL WHERE tenant_id = ?",
    ).bind(JSON.stringify(next), tenant.id),
  ]);
  await refreshMeter(env, tenant.id);
  return true;
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
    console.error(
      JSON.stringify({
        level: "warn",
        msg: "meter refresh failed; it re-reads within a minute",
        tenant_id: tenantId,
        error: String(err),
      }),
    );
  }
}
