import { createRoute, z } from "@hono/zod-openapi";
import { csvResponse } from "../csv";
import {
  jsonResponse,
  newAdminRouter,
  operatorContext,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "../router";
import {
  exportOperatorAuditCsv,
  listOperatorAudit,
  MAX_EXPORT_ROWS,
  type OperatorAuditEntry,
  OperatorAuditQuerySchema,
} from "../services/operator-audit";

const Snapshot = z.record(z.string(), z.unknown()).nullable();

const OperatorAuditEntrySchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    actor: z.object({ type: z.string(), id: z.string(), email: z.string().nullable() }),
    action: z.string(),
    tenant: z.object({ id: z.string(), slug: z.string().nullable() }).nullable(),
    target: z.object({ type: z.string(), id: z.string() }),
    reason: z.string().nullable(),
    before: Snapshot,
    after: Snapshot,
    changes: z.array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() })),
    request_id: z.string().nullable(),
    ip: z.string().nullable(),
  })
  .openapi("OperatorAuditEntry");

function wire(e: OperatorAuditEntry) {
  const { createdAt, requestId, ...rest } = e;
  return { ...rest, created_at: createdAt, request_id: requestId };
}

const ExportQuerySchema = OperatorAuditQuerySchema.omit({ cursor: true, limit: true });

export const operatorAuditRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit-log",
      operationId: "listOperatorAudit",
      tags: ["audit"],
      summary:
        "The operator audit log, newest first: filter by operator (id or email), tenant (id or slug), action and time",
      security: operatorSecurity,
      middleware: operatorRoute("audit:read"),
      request: { query: OperatorAuditQuerySchema },
      responses: {
        200: jsonResponse(
          z.object({ data: z.array(OperatorAuditEntrySchema), next_cursor: z.string().nullable() }),
          "Entries",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const page = await listOperatorAudit({
        ctx: operatorContext(c),
        input: c.req.valid("query"),
      });
      return c.json({ data: page.data.map(wire), next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit-log.csv",
      operationId: "exportOperatorAudit",
      tags: ["audit"],
      summary: `The filtered operator audit log as CSV, newest first (at most ${MAX_EXPORT_ROWS} entries)`,
      security: operatorSecurity,
      middleware: operatorRoute("audit:read"),
      request: { query: ExportQuerySchema },
      responses: {
        200: { description: "CSV", content: { "text/csv": { schema: z.string() } } },
        ...operatorErrors,
      },
    }),
    async (c) =>
      csvResponse(
        await exportOperatorAuditCsv({ ctx: operatorContext(c), input: c.req.valid("query") }),
        "operator-audit.csv",
      ),
  );
