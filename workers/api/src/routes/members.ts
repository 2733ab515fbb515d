import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import { ROLES } from "../rbac/permissions";
import { listMembers, memberView, removeMember, updateMemberRole } from "../services/members";
import {
  conflictError,
  IdParamSchema,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  tenantErrors,
} from "./helpers";

const MemberSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    email: z.string(),
    role: z.string(),
    created_at: z.string(),
  })
  .openapi("Member");

export const memberRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/members",
      operationId: "listMembers",
      summary: "List the tenant's members",
      tags: ["members"],
      security,
      middleware: tenantRoute("members:read"),
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(MemberSchema), "Members, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await listMembers({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/members/{id}",
      operationId: "updateMemberRole",
      tags: ["members"],
      summary: "Change a member's role",
      security,
      middleware: tenantRoute("members:manage"),
      request: { params: IdParamSchema, body: jsonBody(z.strictObject({ role: z.enum(ROLES) })) },
      responses: {
        200: jsonResponse(MemberSchema, "Updated"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) => {
      const m = await updateMemberRole({
        ctx: serviceContext(c),
        input: { ...c.req.valid("param"), ...c.req.valid("json") },
      });
      return c.json(memberView(m), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/members/{id}",
      operationId: "removeMember",
      summary: "Remove a member (never the last owner)",
      tags: ["members"],
      security,
      middleware: tenantRoute("members:manage", { essential: true }),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Removed" }, 409: conflictError, ...tenantErrors },
    }),
    async (c) => {
      await removeMember({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );
