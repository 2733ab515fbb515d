import type { Permission } from "../rbac/permissions";
import { requireActor, requirePermission } from "./auth";
import { requireWritable } from "./entitlements";
import { meterRequest } from "./metering";
import { requireMfaEnrolment } from "./mfa";
import { limitSupportAccess } from "./support";
import { resolveTenant } from "./tenant";

/**
 * The gate of every authenticated tenant route, as one middleware list: the one place that says
 * in which order a request is checked before any service runs.
 *
 * Tenant host + credential + permission + the request budgets and quota (`meterRequest`), in
 * that order, before the handler runs; writes also need billing that allows them (see
 * `requireWritable`). Expensive routes (exports, reports, bulk ingestion) also draw from the
 * plan's smaller expensive budget. Essential routes (sign-out, billing, revocations) draw only
 * from a small budget of their own: a tenant that exhausted its budget or quota can still pay,
 * sign out and lock things down.
 *
 * Support access (an operator's support token) is limited right after the credential: read mode
 * refuses every write, and `refuseSupport` routes (a member's own credentials, API keys,
 * checkout and the billing portal; password, email and MFA changes when they get routes) refuse
 * it in every mode.
 */
export function tenantRoute(
  permission?: Permission,
  opts: {
    expensive?: boolean;
    essential?: boolean;
    refuseSupport?: boolean;
    /** Open to a member the require-MFA policy holds back: enrolment itself, sign-out, /v1/me. */
    beforeMfaEnrolment?: boolean;
  } = {},
) {
  const meter = meterRequest(
    opts.essential ? "essential" : opts.expensive ? "expensive" : "standard",
  );
  const support = limitSupportAccess(opts.refuseSupport ?? false);
  const mfa = opts.beforeMfaEnrolment ? [] : [requireMfaEnrolment];
  return permission
    ? [
        resolveTenant,
        requireActor,
        ...mfa,
        support,
        requirePermission(permission),
        meter,
        requireWritable(permission),
      ]
    : [resolveTenant, requireActor, ...mfa, support, meter];
}
