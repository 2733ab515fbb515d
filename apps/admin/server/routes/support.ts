import { createRoute, z } from "@hono/zod-openapi";
import { SUPPORT_DEFAULT_MINUTES, SUPPORT_MAX_MINUTES } from "@tenantry/core";
import {
  jsonBody,
  jsonResponse,
  newAdminRouter,
  operatorContext,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "../router";
import {
  approveSupport,
  endSupport,
  listSupport,
  mintSupport,
  type SupportSessionRow,
  startSupport,
} from "../services/support";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const SupportSessionSchema = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    tenant_slug: z.string().nullable(),
    operator: z.object({ id: z.string(), email: z.string() }),
    user_id: z.string(),
    reason: z.string(),
    ticket_id: z.string().nullable(),
    mode: z.enum(["read", "write"]),
    status: z.enum(["pending_approval", "active", "ended"]),
    requested_at: z.string(),
    approved_by: z.string().nullable(),
    started_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    ended_by: z.string().nullable(),
  })
  .openapi("SupportSession");

function wire(s: SupportSessionRow) {
  return {
    id: s.id,
    tenant_id: s.tenantId,
    tenant_slug: s.tenantSlug,
    operator: { id: s.operatorId, email: s.operatorEmail },
    user_id: s.userId,
    reason: s.reason,
    ticket_id: s.ticketId,
    mode: s.mode,
    status: s.status,
    requested_at: new Date(s.requestedAt).toISOString(),
    approved_by: s.approvedBy,
    started_at: iso(s.startedAt),
    expires_at: iso(s.expiresAt),
    ended_at: iso(s.endedAt),
    ended_by: s.endedBy,
  };
}

const SessionParams = z.object({ id: z.string().startsWith("sup_") });
const Reason = z.string().trim().min(3).max(500);
const conflict = {
  409: {
    description: "The session is not in a state that allows this",
    content: { "application/problem+json": { schema: z.object({ code: z.string() }) } },
  },
};

export const supportRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/support-sessions",
      operationId: "startSupportSession",
      tags: ["support"],
      summary:
        "Start support access to a tenant: read mode is active at once; write mode (support:write) waits for a second platform admin",
      security: operatorSecurity,
      middleware: operatorRoute("support:start"),
      request: {
        body: jsonBody(
          z.object({
            tenant_id: z.string().startsWith("ten_"),
            user_id: z.string().startsWith("usr_").optional(),
            reason: Reason,
            ticket_id: z.string().trim().min(1).max(100).optional(),
            mode: z.enum(["read", "write"]).default("read"),
            minutes: z
              .number()
              .int()
              .min(1)
              .max(SUPPORT_MAX_MINUTES)
              .default(SUPPORT_DEFAULT_MINUTES),
          }),
        ),
      },
      responses: {
        201: jsonResponse(z.object({ session: SupportSessionSchema }), "The session"),
        ...operatorErrors,
        ...conflict,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const session = await startSupport({
        ctx: operatorContext(c),
        input: {
          tenantId: body.tenant_id,
          userId: body.user_id,
          reason: body.reason,
          ticketId: body.ticket_id,
          mode: body.mode,
          minutes: body.minutes,
        },
      });
      return c.json({ session: wire(session) }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/support-sessions",
      operationId: "listSupportSessions",
      tags: ["support"],
      summary: "Support sessions newest first, of one tenant or platform-wide, by status",
      security: operatorSecurity,
      middleware: operatorRoute("tenants:read"),
      request: {
        query: z.object({
          tenant_id: z.string().startsWith("ten_").optional(),
          status: z.enum(["pending_approval", "active", "ended"]).optional(),
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
      },
      responses: {
        200: jsonResponse(z.object({ data: z.array(SupportSessionSchema) }), "Sessions"),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const rows = await listSupport({
        ctx: operatorContext(c),
        input: { tenantId: q.tenant_id, status: q.status, limit: q.limit },
      });
      return c.json({ data: rows.map(wire) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/support-sessions/{id}/approve",
      operationId: "approveSupportSession",
      tags: ["support"],
      summary: "Approve pending write access (a platform admin other than the requester)",
      security: operatorSecurity,
      middleware: operatorRoute("support:write"),
      request: { params: SessionParams, body: jsonBody(z.object({ reason: Reason })) },
      responses: {
        200: jsonResponse(z.object({ session: SupportSessionSchema }), "The active session"),
        ...operatorErrors,
        ...conflict,
      },
    }),
    async (c) => {
      const session = await approveSupport({
        ctx: operatorContext(c),
        input: { sessionId: c.req.valid("param").id, reason: c.req.valid("json").reason },
      });
      return c.json({ session: wire(session) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/support-sessions/{id}/end",
      operationId: "endSupportSession",
      tags: ["support"],
      summary:
        "End support access, or cancel a pending request (the requester or a platform admin)",
      security: operatorSecurity,
      middleware: operatorRoute("support:start"),
      request: { params: SessionParams, body: jsonBody(z.object({ reason: Reason })) },
      responses: {
        200: jsonResponse(z.object({ session: SupportSessionSchema }), "The ended session"),
        ...operatorErrors,
        ...conflict,
      },
    }),
    async (c) => {
      const session = await endSupport({
        ctx: operatorContext(c),
        input: { sessionId: c.req.valid("param").id, reason: c.req.valid("json").reason },
      });
      return c.json({ session: wire(session) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/support-sessions/{id}/token",
      operationId: "mintSupportToken",
      tags: ["support"],
      summary:
        "A support token for your own active session: use it as Bearer on https://<tenant_host>/v1/… (at most 15 minutes, never past the session); audited as support.token with your reason, else the session's",
      security: operatorSecurity,
      middleware: operatorRoute("support:start"),
      request: {
        params: SessionParams,
        body: {
          required: false,
          content: { "application/json": { schema: z.object({ reason: Reason.optional() }) } },
        },
      },
      responses: {
        200: jsonResponse(
          z.object({ token: z.string(), expires_at: z.string(), tenant_host: z.string() }),
          "The token, shown once",
        ),
        ...operatorErrors,
        ...conflict,
        503: {
          description: "No SUPPORT_SIGNING_KEY is configured",
          content: { "application/problem+json": { schema: z.object({ code: z.string() }) } },
        },
      },
    }),
    async (c) => {
      const minted = await mintSupport({
        ctx: operatorContext(c),
        input: { sessionId: c.req.valid("param").id, reason: c.req.valid("json")?.reason },
      });
      return c.json(
        {
          token: minted.token,
          expires_at: new Date(minted.expiresAt).toISOString(),
          tenant_host: minted.tenantHost,
        },
        200,
      );
    },
  );
