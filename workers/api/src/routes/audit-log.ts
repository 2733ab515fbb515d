import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import { listAuditLog } from "../services/audit-log";
import { jsonResponse, security, serviceContext, tenantErrors } from "./helpers";

const AuditEntrySchema = z
  .object({
    id: z.string(),
    actor: z.object({ type: z.string(), id: z.string() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    request_id: z.string().nullable(),
    ip: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("AuditEntry");

export const auditLogRoutes = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/audit-log",
    operationId: "listAuditLog",
    tags: ["audit"],
    summary: "The tenant's audit log, newest first",
    security,
    middleware: tenantRoute("audit:read"),
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(AuditEntrySchema), "Entries"), ...tenantErrors },
  }),
  async (c) =>
    c.json(await listAuditLog({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
);
