import type { Feature } from "@tenantry/plans";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ForbiddenError } from "../errors";
import { tenantEntitlements } from "../services/entitlements";

/**
 * Gates a route on a plan feature, server-side, after the tenant is resolved: a tenant without
 * it gets a 403 problem naming the feature and its plan.
 */
export function requireFeature(feature: Feature) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const entitlements = await tenantEntitlements(c.env, c.get("tenant").id);
    if (!entitlements.features[feature]) {
      throw new ForbiddenError(
        `The ${entitlements.effectivePlan} plan does not include ${feature}.`,
        "feature_not_in_plan",
        {
          feature,
          plan: entitlements.effectivePlan,
        },
      );
    }
    await next();
  });
}
