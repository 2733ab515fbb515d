import type { Env } from "../env";
import { ForbiddenError } from "../errors";
import { meterFor } from "../meter/client";

type Gauge = "seats" | "projects";

/**
 * Takes one unit of a gauge (seats, projects) from the tenant's meter, which checks and counts in
 * one step, so concurrent requests can never overshoot the limit. Refusal is a 403 problem naming
 * the limit, its value and the plan, or `billing_read_only` when billing allows no additions.
 * Returns the release, for when the change that needed the unit does not happen after all.
 */
export async function reserveUnit(
  env: Env,
  tenantId: string,
  gauge: Gauge,
  key: string,
): Promise<() => Promise<void>> {
  const result = await meterFor(env, tenantId).consume(tenantId, {
    metric: gauge,
    amount: 1,
    key: `${key}:take`,
  });
  if (!result.allowed) {
    const extra = {
      limit: gauge,
      limit_value: result.limit,
      used: result.used,
      plan: result.plan,
    };
    if (result.reason === "read_only") {
      throw new ForbiddenError(
        "Billing allows no additions right now; settle the subscription first.",
        "billing_read_only",
        extra,
      );
    }
    throw new ForbiddenError(
      `The ${result.plan} plan allows ${result.limit} ${gauge}; upgrade or remove some first.`,
      "plan_limit_reached",
      extra,
    );
  }
  return () => releaseUnit(env, tenantId, gauge, key);
}

/** Gives a unit back (a project deleted, a member removed, a reservation unused); once per key. */
export async function releaseUnit(env: Env, tenantId: string, gauge: Gauge, key: string) {
  await meterFor(env, tenantId).consume(tenantId, {
    metric: gauge,
    amount: -1,
    key: `${key}:release`,
  });
}
