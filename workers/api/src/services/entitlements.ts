import { effectivePlan, log, readBilling } from "@tenantry/core";
import {
  type EntitlementOverride,
  EntitlementOverrideSchema,
  evaluateEntitlements,
  type FlagDefinition,
  FlagDefinitionSchema,
  isPlanId,
} from "@tenantry/plans";
import type { Env } from "../env";

/**
 * The tenant's evaluated entitlements: plan defaults (from its billing state) ⊕ its overrides
 * in force ⊕ rollout flags. Rows that no longer parse are skipped and logged, never fatal.
 */
export async function tenantEntitlements(env: Env, tenantId: string, now = Date.now()) {
  const [billing, overrides, flags] = await Promise.all([
    readBilling(env, tenantId),
    env.CONTROL_DB.prepare(
      "SELECT override FROM entitlement_overrides WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at",
    )
      .bind(tenantId, now)
      .all<{ override: string }>(),
    env.CONTROL_DB.prepare("SELECT definition FROM feature_flags ORDER BY key").all<{
      definition: string;
    }>(),
  ]);
  const { plan, access } = effectivePlan(env, billing, now);
  return evaluateEntitlements({
    plan: billing && isPlanId(billing.plan) ? billing.plan : plan,
    access,
    tenantId,
    now,
    overrides: parseRows(
      overrides.results.map((r) => r.override),
      EntitlementOverrideSchema,
      tenantId,
    ) as EntitlementOverride[],
    flags: parseRows(
      flags.results.map((r) => r.definition),
      FlagDefinitionSchema,
      tenantId,
    ) as FlagDefinition[],
  });
}

function parseRows<T>(
  rows: string[],
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  tenantId: string,
): T[] {
  const parsed: T[] = [];
  for (const text of rows) {
    const result = schema.safeParse(JSON.parse(text));
    if (result.success) parsed.push(result.data as T);
    else log.forTenant(tenantId).warn("skipped an unreadable entitlement row", { row: text });
  }
  return parsed;
}
