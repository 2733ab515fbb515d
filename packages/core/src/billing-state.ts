import { type AccessState, accessForSubscription, isPlanId, type PlanId } from "@tenantry/plans";
import { subscriptions } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { controlDb } from "./control-db";
import { type CoreEnv, coreConfig, gracePeriodMs } from "./env";

/** A tenant's billing state as stored by the re-sync (see `syncTenantBilling`). */
export type BillingRow = typeof subscriptions.$inferSelect;

export interface EffectivePlan {
  plan: PlanId;
  access: AccessState;
  graceEndsAt: number | null;
}

/** The plan the tenant may use now: its subscription's, unless billing state takes it away. */
export function effectivePlan(
  env: CoreEnv,
  row: Pick<BillingRow, "status" | "plan" | "pastDueSince"> | null,
  now = Date.now(),
): EffectivePlan {
  const status = row?.status ?? null;
  const { access, graceEndsAt } = accessForSubscription({
    status: status as Parameters<typeof accessForSubscription>[0]["status"],
    pastDueSince: row?.pastDueSince ?? null,
    now,
    gracePeriodMs: gracePeriodMs(coreConfig(env)),
  });
  const plan: PlanId = access === "free_limits" || !row || !isPlanId(row.plan) ? "free" : row.plan;
  return { plan, access, graceEndsAt };
}

export async function readBilling(env: CoreEnv, tenantId: string): Promise<BillingRow | null> {
  return (
    (await controlDb(env)
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.tenantId, tenantId))
      .get()) ?? null
  );
}
