import {
  type EntitlementOverride,
  EntitlementOverrideSchema,
  evaluateEntitlements,
  type FlagDefinition,
  FlagDefinitionSchema,
  isPlanId,
} from "@tenantry/plans";
import { entitlementOverrides, featureFlags } from "@tenantry/schema/control";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { effectivePlan, readBilling } from "./billing-state";
import { controlDb } from "./control-db";
import type { CoreEnv } from "./env";
import { log } from "./log";

/**
 * The tenant's evaluated entitlements: plan defaults (from its billing state) ⊕ its overrides
 * in force ⊕ rollout flags. Rows that no longer parse are skipped and logged, never fatal.
 */
export async function tenantEntitlements(env: CoreEnv, tenantId: string, now = Date.now()) {
  const [billing, overrides, flags] = await Promise.all([
    readBilling(env, tenantId),
    controlDb(env)
      .select({ override: entitlementOverrides.override })
      .from(entitlementOverrides)
      .where(
        and(
          eq(entitlementOverrides.tenantId, tenantId),
          or(isNull(entitlementOverrides.expiresAt), gt(entitlementOverrides.expiresAt, now)),
        ),
      )
      .orderBy(entitlementOverrides.createdAt),
    controlDb(env)
      .select({ definition: featureFlags.definition })
      .from(featureFlags)
      .orderBy(featureFlags.key),
  ]);
  const { plan, access } = effectivePlan(env, billing, now);
  return evaluateEntitlements({
    plan: billing && isPlanId(billing.plan) ? billing.plan : plan,
    access,
    tenantId,
    now,
    overrides: parseRows(
      overrides.map((r) => r.override),
      EntitlementOverrideSchema,
      tenantId,
    ) as EntitlementOverride[],
    flags: parseRows(
      flags.map((r) => r.definition),
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
