import { initWorkerApp, type WorkerVariables } from "@tenantry/core";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { assertCan, operatorFromToken, unauthorized } from "./auth";
import type { Operator, OperatorContext } from "./context";
import type { AdminEnv } from "./env";
import type { OperatorPermission } from "./roles";

export interface AdminApiEnv {
  Bindings: AdminEnv;
  Variables: WorkerVariables & { operator: Operator };
}

/** The admin JSON API under /api (automation and scripts); the app's pages call the same verbs. */
export const adminApi = new Hono<AdminApiEnv>().basePath("/api");
initWorkerApp(adminApi, { notFoundDetail: "The admin API has no such route." });

/** The bare route benchmarks compare against: no database, no operator. */
adminApi.get("/health", (c) => c.json({ ok: true }));

/**
 * The gate of every admin API route: an operator API token (`Authorization: Bearer tnop_…`)
 * whose role grants `permission`. Tenant credentials are not operator tokens: 401.
 */
export function operatorRoute(permission: OperatorPermission) {
  return createMiddleware<AdminApiEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const operator = token
      ? await operatorFromToken(c.env, token, (p) => c.executionCtx.waitUntil(p))
      : null;
    if (!operator) throw unauthorized();
    assertCan(operator, permission);
    c.set("operator", operator);
    await next();
  });
}

/** The verb context of an admin API request. */
export function operatorContext(c: {
  env: AdminEnv;
  get(key: "operator"): Operator;
  get(key: "requestId"): string;
  req: { header(name: string): string | undefined };
}): OperatorContext {
  return {
    env: c.env,
    requestId: c.get("requestId"),
    ip: c.req.header("cf-connecting-ip") ?? null,
    operator: c.get("operator"),
  };
}

/** Who the credential belongs to, with the role it acts with. */
adminApi.get("/v1/me", operatorRoute("tenants:read"), (c) =>
  c.json({ operator: c.get("operator") }),
);
