import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { config } from "../env";
import { ForbiddenError, NotFoundError, ServiceUnavailableError } from "../errors";
import { catchUpTenantSchema, schemaBehind } from "../services/fleet-migrations";
import { classifyHost, findTenantBySlug } from "../services/registry";

/** Requests built without a Host header (tests, service bindings) fall back to the URL's host. */
export function requestHost(req: Request): string {
  return req.headers.get("host") ?? new URL(req.url).host;
}

/**
 * Resolves the tenant from the Host header against the registry, before anything else runs.
 * Unknown or being reclaimed → 404; suspended → 403 `tenant_suspended`; provisioning → 503 with
 * Retry-After. A database behind the deployed code is migrated before the request goes on.
 */
export const resolveTenant = createMiddleware<AppEnv>(async (c, next) => {
  const target = classifyHost(config(c.env), requestHost(c.req.raw));
  if (target.kind !== "tenant") throw new NotFoundError("tenant");
  const tenant = await findTenantBySlug(c.env, target.slug);
  // A tenant being reclaimed (services/reclaim.ts) is already as good as gone.
  if (!tenant || tenant.status === "reclaiming") throw new NotFoundError("tenant");
  if (tenant.status === "suspended") {
    throw new ForbiddenError("This tenant is suspended.", "tenant_suspended");
  }
  if (tenant.status !== "active") {
    throw new ServiceUnavailableError(
      "tenant_provisioning",
      "This tenant is still being set up.",
      5,
    );
  }
  if (schemaBehind(tenant)) await catchUpTenantSchema(c.env, tenant);
  c.set("tenant", tenant);
  await next();
});

/** Apex-only routes (sign-up, slug availability) are not served on tenant hosts. */
export const apexOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (classifyHost(config(c.env), requestHost(c.req.raw)).kind !== "apex") {
    throw new NotFoundError("route");
  }
  await next();
});
