import { checkLimit, type LimitKey } from "@tenantry/plans";
import type { Env } from "../env";
import { ForbiddenError } from "../errors";
import { tenantEntitlements } from "./entitlements";

/**
 * Refuses one more unit of a counted limit (seats, projects) with a 403 problem naming the limit,
 * its value and the plan, or `billing_read_only` when billing allows no additions. The count is
 * read before the insert, so two concurrent requests can overshoot by one; the per-tenant meter
 * (the metering milestone) makes it exact.
 */
export async function assertWithinLimit(
  env: Env,
  tenantId: string,
  limit: LimitKey,
  used: number,
): Promise<void> {
  const entitlements = await tenantEntitlements(env, tenantId);
  const result = checkLimit(entitlements, limit, used, 1);
  if (result.allowed) return;
  const extra = { limit, limit_value: result.value, used, plan: entitlements.effectivePlan };
  if (result.reason === "read_only") {
    throw new ForbiddenError(
      "Billing allows no additions right now; settle the subscription first.",
      "billing_read_only",
      extra,
    );
  }
  throw new ForbiddenError(
    `The ${entitlements.effectivePlan} plan allows ${result.value} ${limit}; upgrade or remove some first.`,
    "plan_limit_reached",
    extra,
  );
}
