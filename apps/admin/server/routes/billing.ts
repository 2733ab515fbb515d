import { createRoute, z } from "@hono/zod-openapi";
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
  LEDGER_FILTERS,
  listStripeEvents,
  reconcileTenantUsage,
  replayStripeEvent,
  resyncTenantBilling,
} from "../services/billing";

const EventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    customerId: z.string().nullable(),
    tenantId: z.string().nullable(),
    createdAt: z.number(),
    receivedAt: z.number(),
    source: z.string(),
    state: z.string(),
    attempts: z.number(),
    error: z.string().nullable().openapi({ description: "The last failure's reason" }),
    processedAt: z.number().nullable(),
    replayAuditId: z.string().nullable(),
  })
  .openapi("StripeLedgerEvent");

const ReconcileRowSchema = z
  .object({
    tenant_id: z.string(),
    metric: z.string(),
    period_start: z.string(),
    period_end: z.string(),
    meter: z.number(),
    ledger: z.number(),
    ledger_billable: z.number().nullable(),
    stripe: z.number().nullable(),
    dead_rows: z.number(),
    dead_billable: z.number(),
    status: z.enum(["ok", "dead_lettered", "mismatch"]),
    ok: z.boolean(),
  })
  .openapi("UsageReconcileRow");

const ReasonSchema = z.object({ reason: z.string().trim().min(3).max(500) });
const mutationErrors = {
  ...operatorErrors,
  409: { ...operatorErrors[404], description: "The event or tenant is not in a state for it" },
};

export const billingRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/billing/events",
      operationId: "listStripeEvents",
      tags: ["billing"],
      summary: "The Stripe event ledger, newest first, platform-wide or for one tenant",
      security: operatorSecurity,
      middleware: operatorRoute("billing:read"),
      request: {
        query: z.object({
          tenant_id: z.string().optional(),
          state: z.enum(LEDGER_FILTERS).optional(),
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({ data: z.array(EventSchema), next_cursor: z.string().nullable() }),
          "A page of the ledger",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listStripeEvents({
        ctx: operatorContext(c),
        input: { tenantId: q.tenant_id, filter: q.state, cursor: q.cursor, limit: q.limit },
      });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/billing/events/{eventId}/replay",
      operationId: "replayStripeEvent",
      tags: ["billing"],
      summary: "Replays a failed (dead-lettered) event: queued again, once",
      security: operatorSecurity,
      middleware: operatorRoute("billing:write"),
      request: { params: z.object({ eventId: z.string() }), body: jsonBody(ReasonSchema) },
      responses: {
        202: jsonResponse(z.object({ event: EventSchema }), "Queued"),
        ...mutationErrors,
      },
    }),
    async (c) => {
      const event = await replayStripeEvent({
        ctx: operatorContext(c),
        input: { eventId: c.req.valid("param").eventId, reason: c.req.valid("json").reason },
      });
      return c.json({ event }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{tenantId}/billing/resync",
      operationId: "resyncTenantBilling",
      tags: ["billing"],
      summary: "Re-syncs a tenant's billing from Stripe (queued; recorded in the ledger)",
      security: operatorSecurity,
      middleware: operatorRoute("billing:write"),
      request: { params: z.object({ tenantId: z.string() }), body: jsonBody(ReasonSchema) },
      responses: {
        202: jsonResponse(z.object({ event: EventSchema }), "Queued"),
        ...mutationErrors,
      },
    }),
    async (c) => {
      const event = await resyncTenantBilling({
        ctx: operatorContext(c),
        input: { tenantId: c.req.valid("param").tenantId, reason: c.req.valid("json").reason },
      });
      return c.json({ event }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/billing/reconcile",
      operationId: "reconcileUsage",
      tags: ["billing"],
      summary: "Meters vs usage ledger vs Stripe, per tenant, metric and period",
      security: operatorSecurity,
      middleware: operatorRoute("billing:read"),
      request: { query: z.object({ tenant_id: z.string().optional() }) },
      responses: {
        200: jsonResponse(
          z.object({ rows: z.array(ReconcileRowSchema), mismatches: z.array(ReconcileRowSchema) }),
          "Every row, and the mismatches apart",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const result = await reconcileTenantUsage({
        ctx: operatorContext(c),
        input: { tenantId: c.req.valid("query").tenant_id },
      });
      return c.json(result, 200);
    },
  );
