import { type AccessState, accessForSubscription, isPlanId, type PlanId } from "@tenantry/plans";
import { type CoreEnv, coreConfig, gracePeriodMs } from "./env";

/** A tenant's billing state as stored by the re-sync (see `syncTenantBilling`). */
export interface BillingRow {
  tenant_id: string;
  stripe_customer_id: string;
  stripe_subscription_id: string | null;
  status: string | null;
  plan: string;
  interval: string | null;
  current_period_end: number | null;
  cancel_at_period_end: number;
  trial_end: number | null;
  past_due_since: number | null;
  synced_at: number;
  recorded_state: string | null;
  pending_audit_id: string | null;
}

export interface EffectivePlan {
  plan: PlanId;
  access: AccessState;
  graceEndsAt: number | null;
}

/** The plan the tenant may use now: its subscription's, unless billing state takes it away. */
export function effectivePlan(
  env: CoreEnv,
  row: Pick<BillingRow, "status" | "plan" | "past_due_since"> | null,
  now = Date.now(),
): EffectivePlan {
  const status = row?.status ?? null;
  const { access, graceEndsAt } = accessForSubscription({
    status: status as Parameters<typeof accessForSubscription>[0]["status"],
    pastDueSince: row?.past_due_since ?? null,
    now,
    gracePeriodMs: gracePeriodMs(coreConfig(env)),
  });
  const plan: PlanId = access === "free_limits" || !row || !isPlanId(row.plan) ? "free" : row.plan;
  return { plan, access, graceEndsAt };
}

export async function readBilling(env: CoreEnv, tenantId: string): Promise<BillingRow | null> {
  return env.CONTROL_DB.prepare("SELECT * FROM subscriptions WHERE tenant_id = ?")
    .bind(tenantId)
    .first<BillingRow>();
}
