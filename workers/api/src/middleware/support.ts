import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ForbiddenError } from "../errors";

const READS = new Set(["GET", "HEAD"]);

/**
 * What support access may not do. Read mode refuses every write; both modes refuse the routes
 * marked `refuseSupport` (credentials, API keys, sign-out, checkout and the billing portal).
 * Owner changes are refused by the members and invitations services, which know the roles.
 */
export function limitSupportAccess(refuseSupport: boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const actor = c.get("actor");
    if (actor.type === "support") {
      if (actor.mode === "read" && !READS.has(c.req.method)) {
        throw new ForbiddenError(
          "Support access is read-only: writes need write access approved by a second operator.",
          "support_read_only",
        );
      }
      if (refuseSupport) {
        throw new ForbiddenError(
          "Not allowed during support access: only the tenant's own members can do this.",
          "support_access_restricted",
        );
      }
    }
    await next();
  });
}
