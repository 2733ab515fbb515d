import { effectivePlan, readBilling, tenantEntitlements } from "@tenantry/core";
import type { Feature } from "@tenantry/plans";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ForbiddenError } from "../errors";
import type { Permission } from "../rbac/permissions";

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

/** Permissions whose DELETE routes stay open to a read-only tenant: locking things down. */
const REVOCATIONS = new Set<Permission>([
  "members:manage",
  "invitations:manage",
  "api_keys:manage",
]);

/**
 * A tenant whose billing made it read-only (past_due beyond the grace period, or paused) may
 * read everything but change nothing: writes answer 403 `billing_read_only` naming the billing
 * state. Billing itself stays open so the tenant can pay, and so do revocations (removing a
 * member, revoking a key or an invitation), which must never wait for a payment.
 */
export function requireWritable(permission: Permission) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method;
    const exempt =
      method === "GET" ||
      method === "HEAD" ||
      permission.startsWith("billing:") ||
      (method === "DELETE" && REVOCATIONS.has(permission));
    if (!exempt) {
      const row = await readBilling(c.env, c.get("tenant").id);
      const { access } = effectivePlan(c.env, row);
      if (access === "read_only") {
        throw new ForbiddenError(
          `The subscription is ${row?.status}: the workspace is read-only until billing is settled.`,
          "billing_read_only",
          { billing_status: row?.status ?? null, access },
        );
      }
    }
    await next();
  });
}
