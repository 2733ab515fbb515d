import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import { PERMISSIONS } from "../rbac/permissions";
import {
  createApiKey,
  listApiKeys,
  listOwnApiKeys,
  revokeApiKey,
  revokeOwnApiKey,
} from "../services/api-keys";
import {
  IdParamSchema,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  sessionSecurity,
  tenantErrors,
} from "./helpers";

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    start: z.string(),
    permissions: z.array(z.string()),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi("ApiKey");

export const apiKeyRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/api-keys",
      operationId: "createApiKey",
      tags: ["api keys"],
      summary: "Create an API key (shown once; permissions ⊆ yours)",
      security: sessionSecurity,
      middleware: tenantRoute("api_keys:manage", { refuseSupport: true }),
      request: {
        body: jsonBody(
          z.strictObject({
            name: z.string().trim().min(1).max(100),
            permissions: z.array(z.enum(PERMISSIONS)).min(1).max(PERMISSIONS.length),
            expires_at: z.iso.datetime({ offset: true }).optional(),
          }),
        ),
      },
      responses: {
        201: jsonResponse(
          ApiKeySchema.extend({ key: z.string() }),
          "Created; `key` is shown only now",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await createApiKey({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/api-keys",
      operationId: "listApiKeys",
      summary: "List API keys (never their secrets)",
      tags: ["api keys"],
      security,
      middleware: tenantRoute("api_keys:read"),
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(ApiKeySchema), "API keys, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await listApiKeys({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/api-keys/{id}",
      operationId: "revokeApiKey",
      tags: ["api keys"],
      summary: "Revoke an API key (refused from the next request on)",
      security,
      middleware: tenantRoute("api_keys:manage", { essential: true }),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Revoked" }, ...tenantErrors },
    }),
    async (c) => {
      await revokeApiKey({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me/api-keys",
      operationId: "listOwnApiKeys",
      tags: ["api keys"],
      summary: "The API keys you created that still work (whatever your role now)",
      security: sessionSecurity,
      middleware: tenantRoute(undefined, { essential: true }),
      responses: {
        200: jsonResponse(
          z.object({ data: z.array(ApiKeySchema) }),
          "Your working keys, newest first",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await listOwnApiKeys({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/me/api-keys/{id}",
      operationId: "revokeOwnApiKey",
      tags: ["api keys"],
      summary: "Revoke an API key you created (no api_keys:manage needed)",
      security: sessionSecurity,
      middleware: tenantRoute(undefined, { essential: true }),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Revoked" }, ...tenantErrors },
    }),
    async (c) => {
      await revokeOwnApiKey({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );
