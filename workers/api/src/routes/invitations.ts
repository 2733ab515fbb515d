import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { resolveTenant } from "../middleware/tenant";
import { tenantRoute } from "../middleware/tenant-route";
import { ROLES } from "../rbac/permissions";
import {
  acceptInvitation,
  createInvitation,
  invitationView,
  listInvitations,
  previewInvitation,
  revokeInvitation,
} from "../services/invitations";
import { memberView } from "../services/members";
import { EmailSchema } from "../services/signup";
import {
  conflictError,
  IdParamSchema,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  tenantErrors,
  tenantRequestContext,
} from "./helpers";

const InvitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.string(),
    status: z.enum(["pending", "accepted", "revoked", "expired"]),
    invited_by: z.string(),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi("Invitation");

export const invitationRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/invitations",
      operationId: "createInvitation",
      tags: ["invitations"],
      summary: "Invite someone by email (role no higher than yours; your email must be verified)",
      security,
      middleware: tenantRoute("invitations:manage"),
      request: { body: jsonBody(z.strictObject({ email: EmailSchema, role: z.enum(ROLES) })) },
      responses: {
        201: jsonResponse(InvitationSchema, "Invited; the link is mailed"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        invitationView(
          await createInvitation({ ctx: serviceContext(c), input: c.req.valid("json") }),
        ),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/invitations",
      operationId: "listInvitations",
      summary: "List pending and past invitations",
      tags: ["invitations"],
      security,
      middleware: tenantRoute("invitations:read"),
      request: { query: PageQuerySchema },
      responses: {
        200: jsonResponse(pageSchema(InvitationSchema), "Invitations, newest first"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await listInvitations({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/invitations/{id}",
      operationId: "revokeInvitation",
      summary: "Revoke a pending invitation",
      tags: ["invitations"],
      security,
      middleware: tenantRoute("invitations:manage", { essential: true }),
      request: { params: IdParamSchema },
      responses: { 204: { description: "Revoked" }, 409: conflictError, ...tenantErrors },
    }),
    async (c) => {
      await revokeInvitation({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/invitations/preview",
      operationId: "previewInvitation",
      tags: ["invitations"],
      summary:
        "What an invitation token invites to, without accepting it (the acceptance page's first step)",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ token: z.string().min(1).max(200) })) },
      responses: {
        200: jsonResponse(
          z.object({
            email: z.string(),
            role: z.string(),
            organization_name: z.string(),
            account_exists: z
              .boolean()
              .openapi({ description: "Whether to ask for the account's password or a new one" }),
            expires_at: z.string(),
          }),
          "The pending invitation",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await previewInvitation({ ctx: tenantRequestContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/invitations/accept",
      operationId: "acceptInvitation",
      tags: ["invitations"],
      summary: "Accept an invitation with the mailed token (single use, 7 days)",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        body: jsonBody(
          z.strictObject({
            token: z.string().min(1).max(200),
            password: z.string().min(10).max(200).optional(),
          }),
        ),
      },
      responses: {
        201: jsonResponse(
          z.object({
            member: z.object({
              id: z.string(),
              user_id: z.string(),
              email: z.string(),
              role: z.string(),
              created_at: z.string(),
            }),
            access_token: z.string(),
            refresh_token: z.string(),
            token_type: z.literal("Bearer"),
            expires_in: z.number().int(),
          }),
          "Joined",
        ),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) => {
      const { member, tokens } = await acceptInvitation({
        ctx: tenantRequestContext(c),
        input: c.req.valid("json"),
      });
      return c.json({ member: memberView(member), ...tokens }, 201);
    },
  );
