import { tenantDb } from "@tenantry/core";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { clientIp } from "../lib/request";
import type { Permission } from "../rbac/permissions";
import { authenticate } from "../services/authenticate";
import { recordSupportRequest } from "../services/support-requests";
import { admitRequest, refusal } from "./metering";

/**
 * Turns the bearer credential (access token or API key) into an actor of the host's tenant.
 * Runs after `resolveTenant`; a credential of another tenant is a 401. Every request made with a
 * support token, answered or refused, leaves a `support.request` entry in the tenant's audit log.
 */
export const requireActor = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match?.[1]) throw new UnauthorizedError("Send a bearer access token or API key.");
  const actor = await authenticate(c.env, c.get("tenant"), match[1], {
    ip: clientIp(c.req.raw),
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
  if (!actor) throw new UnauthorizedError();
  c.set("actor", actor);
  await next();
  // Errors further down are already answers here (the app's onError ran), so refusals count too.
  if (actor.type === "support") {
    await recordSupportRequest({
      ctx: {
        db: tenantDb(c.env, c.get("tenant")),
        requestId: c.get("requestId"),
        ip: clientIp(c.req.raw),
        actor,
      },
      input: { method: c.req.method, path: c.req.path, status: c.res.status },
    });
  }
});

/**
 * The RBAC gate: runs before any service, and before the request is charged to the tenant's
 * budgets. A refusal draws only from the small budget of refusals, so a credential cannot spend
 * the tenant's budget on routes it may not call.
 */
export function requirePermission(permission: Permission) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get("actor").permissions.has(permission)) {
      const admission = await admitRequest(c, "refused");
      if (admission && !admission.allowed) throw refusal(admission);
      throw new ForbiddenError(
        `This action requires the ${permission} permission.`,
        "forbidden",
        { permission },
        admission?.headers,
      );
    }
    await next();
  });
}
