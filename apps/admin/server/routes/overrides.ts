import { createRoute, z } from "@hono/zod-openapi";
import { EntitlementOverrideSchema } from "@tenantry/plans";
import {
  jsonBody,
  jsonResponse,
  newAdminRouter,
  operatorContext,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "../router";
import { createOverride, expireOverride, listOverrides } from "../services/overrides";
import { REASON } from "../services/tenants";

const OverrideSchema = z
  .object({
    id: z.string(),
    override: z.record(z.string(), z.any()).nullable(),
    active: z.boolean(),
    expires_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("EntitlementOverride");

const TenantParam = z.object({ id: z.string().min(1).max(64) });
const OverrideParam = TenantParam.extend({ overrideId: z.string().min(1).max(64) });

export const overrideRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tenants/{id}/overrides",
      operationId: "listOverrides",
      tags: ["overrides"],
      summary: "The tenant's entitlement, feature-flag and rate-limit overrides, newest first",
      security: operatorSecurity,
      middleware: operatorRoute("tenants:read"),
      request: { params: TenantParam },
      responses: {
        200: jsonResponse(z.object({ data: z.array(OverrideSchema) }), "Overrides"),
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        {
          data: await listOverrides({
            ctx: operatorContext(c),
            input: { tenantId: c.req.valid("param").id },
          }),
        },
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{id}/overrides",
      operationId: "createOverride",
      tags: ["overrides"],
      summary: "Override a feature, limit, rollout flag or request budget for one tenant",
      description:
        "The body is an override as stored (`type`, `key`, `value`, `reason`, optional `expiresAt` in epoch ms; a comp always has one). The tenant's meter is refreshed, so the next request sees it.",
      security: operatorSecurity,
      middleware: operatorRoute("overrides:write"),
      request: { params: TenantParam, body: jsonBody(EntitlementOverrideSchema) },
      responses: {
        201: jsonResponse(OverrideSchema, "Created and in force"),
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        await createOverride({
          ctx: operatorContext(c),
          input: { tenantId: c.req.valid("param").id, override: c.req.valid("json") },
        }),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{id}/overrides/{overrideId}/expire",
      operationId: "expireOverride",
      tags: ["overrides"],
      summary: "End an override now, with a reason (the row stays for the record)",
      security: operatorSecurity,
      middleware: operatorRoute("overrides:write"),
      request: { params: OverrideParam, body: jsonBody(z.object({ reason: REASON })) },
      responses: {
        200: jsonResponse(
          z.object({ id: z.string(), active: z.literal(false), expires_at: z.string().nullable() }),
          "Expired",
        ),
        409: {
          description: "Already expired (nothing changed)",
          content: { "application/problem+json": { schema: z.record(z.string(), z.unknown()) } },
        },
        ...operatorErrors,
      },
    }),
    async (c) => {
      const { id, overrideId } = c.req.valid("param");
      return c.json(
        await expireOverride({
          ctx: operatorContext(c),
          input: { tenantId: id, overrideId, reason: c.req.valid("json").reason },
        }),
        200,
      );
    },
  );
