import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { requireFeature } from "../middleware/entitlements";
import { tenantRoute } from "../middleware/tenant-route";
import { createScimToken, listScimTokens, revokeScimToken } from "../services/scim-tokens";
import {
  IdParamSchema,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  sessionSecurity,
  tenantErrors,
} from "./helpers";

const ScimTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    start: z.string(),
    created_by: z.string(),
    revoked_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("ScimToken");

export const scimTokenRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/scim-tokens",
      operationId: "createScimToken",
      tags: ["scim"],
      summary: "Create a SCIM provisioning token (owners; shown once; plans with sso)",
      security: sessionSecurity,
      middleware: [
        ...tenantRoute("settings:manage", { refuseSupport: true }),
        requireFeature("sso"),
      ],
      request: { body: jsonBody(z.strictObject({ name: z.string().trim().min(1).max(100) })) },
      responses: {
        201: jsonResponse(
          ScimTokenSchema.extend({ token: z.string() }),
          "Created; `token` is shown only now",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await createScimToken({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/scim-tokens",
      operationId: "listScimTokens",
      tags: ["scim"],
      summary: "List SCIM tokens (owners; never their secrets)",
      security: sessionSecurity,
      middleware: tenantRoute("settings:manage", { refuseSupport: true }),
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ScimTokenSchema), "SCIM tokens, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await listScimTokens({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/scim-tokens/{id}",
      operationId: "revokeScimToken",
      tags: ["scim"],
      // No feature gate: a tenant that lost `sso` can still lock provisioning out.
      summary: "Revoke a SCIM token (owners; refused from the next request on)",
      security,
      middleware: tenantRoute("settings:manage", { essential: true, refuseSupport: true }),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Revoked" }, ...tenantErrors },
    }),
    async (c) => {
      await revokeScimToken({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );
