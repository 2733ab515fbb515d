import { createRoute, z } from "@hono/zod-openapi";
import { tenantEntitlements } from "@tenantry/core";
import { newRouter } from "../app";
import { tenantRoute } from "../middleware/tenant-route";
import { jsonResponse, security, tenantErrors } from "./helpers";

export const entitlementRoutes = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/entitlements",
    operationId: "getEntitlements",
    tags: ["billing"],
    summary: "The evaluated entitlements: plan defaults ⊕ per-tenant overrides ⊕ rollout flags",
    security,
    middleware: tenantRoute("settings:read"),
    responses: {
      200: jsonResponse(
        z.object({
          plan: z.string(),
          effectivePlan: z.string(),
          access: z.string(),
          features: z.record(z.string(), z.boolean()),
          limits: z.record(
            z.string(),
            z.object({ value: z.number().nullable(), hard: z.boolean() }),
          ),
          rateLimits: z.record(
            z.string(),
            z.object({ perSecond: z.number(), perMinute: z.number() }),
          ),
          flags: z.record(z.string(), z.boolean()),
          overrides: z.array(z.record(z.string(), z.unknown())),
        }),
        "Entitlements in force now",
      ),
      ...tenantErrors,
    },
  }),
  async (c) => c.json(await tenantEntitlements(c.env, c.get("tenant").id), 200),
);
