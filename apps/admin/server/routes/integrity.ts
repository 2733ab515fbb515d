import { createRoute, z } from "@hono/zod-openapi";
import {
  jsonResponse,
  newAdminRouter,
  operatorContext,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "../router";
import { verifyAuditLogs } from "../services/integrity";

const FindingSchema = z.object({
  entryId: z.string().nullable(),
  seq: z.number().int().nullable(),
  problem: z.string(),
  detail: z.string(),
});

const VerificationSchema = z
  .object({
    scope: z.string(),
    ok: z.boolean(),
    sealed: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: z.string() }),
    checkpoint: z.record(z.string(), z.unknown()).nullable(),
    unsealed: z.object({ count: z.number().int(), oldest_created_at: z.number().nullable() }),
    findings: z.array(FindingSchema),
  })
  .openapi("AuditVerification");

export const integrityRoutes = newAdminRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/audit/verify",
    operationId: "verifyAuditLogs",
    tags: ["audit"],
    summary: "Verify the operator audit log (and a tenant's, with tenant_id) against its seals",
    description:
      "Recomputes the sealed hash chain and checks the signed checkpoint (ADR 012). Each finding names the altered, deleted or reordered entry; entries newer than the last seal are counted as unsealed.",
    security: operatorSecurity,
    middleware: operatorRoute("audit:read"),
    request: { query: z.object({ tenant_id: z.string().max(64).optional() }) },
    responses: {
      200: jsonResponse(
        z.object({ platform: VerificationSchema, tenant: VerificationSchema.nullable() }),
        "The verification of each log",
      ),
      ...operatorErrors,
    },
  }),
  async (c) =>
    c.json(
      await verifyAuditLogs({
        ctx: operatorContext(c),
        input: { tenantId: c.req.valid("query").tenant_id },
      }),
      200,
    ),
);
