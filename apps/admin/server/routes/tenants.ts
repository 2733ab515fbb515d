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
import { changePlan, PlanChangeSchema } from "../services/subscription";
import { getTenantDetail } from "../services/tenant-detail";
import {
  listTenants,
  REASON,
  reactivateTenant,
  SEARCH_FIELDS,
  suspendTenant,
  TenantListQuerySchema,
} from "../services/tenants";

const TenantSummarySchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    status: z.string(),
    plan: z.string().nullable(),
    access: z.string(),
    owner_email: z.string(),
    stripe_customer_id: z.string().nullable(),
    schema_version: z.number().int(),
    created_at: z.string(),
  })
  .openapi("TenantSummary");

const Loose = z.record(z.string(), z.unknown());
const Time = z.string().nullable();

const TenantDetailSchema = z
  .object({
    tenant: TenantSummarySchema.omit({ created_at: true }).extend({
      owner_user_id: z.string(),
      owner_email: z.string().nullable(),
      database_binding: z.string().nullable(),
      region: z.string().nullable(),
      provisioning_step: z.string().nullable(),
      provisioning_error: z.string().nullable(),
      created_at: Time,
      updated_at: Time,
    }),
    billing: z.object({
      access: z.string(),
      effective_plan: z.string(),
      grace_ends_at: Time,
      subscription: Loose.nullable(),
    }),
    entitlements: Loose,
    overrides: z.array(Loose),
    members: z.array(
      z.object({
        id: z.string(),
        user_id: z.string(),
        email: z.string(),
        role: z.string(),
        created_at: Time,
      }),
    ),
    audit: z.array(Loose),
    usage: z.object({
      days: z.number().int(),
      ledger: z.array(
        z.object({
          metric: z.string(),
          days: z.array(z.object({ day: z.string(), used: z.number() })),
        }),
      ),
      meter_period: z
        .array(
          z.object({ metric: z.string(), period_start: Time, period_end: Time, used: z.number() }),
        )
        .nullable(),
    }),
  })
  .openapi("TenantDetail");

const IdParam = z.object({ id: z.string().min(1).max(64) });
const ReasonBody = z.object({ reason: REASON });
const conflict = {
  description: "The tenant is not in the state this change starts from (nothing changed)",
  content: { "application/problem+json": { schema: z.record(z.string(), z.unknown()) } },
};
const StatusResult = z.object({ id: z.string(), slug: z.string(), status: z.string() });

/** Says the bound the UI and the docs state: the API worker caches active registry rows. */
const SUSPEND_BOUND =
  "The tenant's API answers 403 `tenant_suspended` within REGISTRY_CACHE_TTL_SECONDS of the API worker (30 s in production).";

export const tenantRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tenants",
      operationId: "listTenants",
      tags: ["tenants"],
      summary: "List and search tenants, newest first (or in the order of the searched field)",
      description: `\`q\` is a prefix of the name (any case), slug or owner email, or a Stripe customer id (exact); \`by\` says which (${SEARCH_FIELDS.join(", ")}), guessed from \`q\` when absent. Pages with \`cursor\` = the previous \`next_cursor\`. \`access\` is billing access as last recorded by the billing sync.`,
      security: operatorSecurity,
      middleware: operatorRoute("tenants:read"),
      request: { query: TenantListQuerySchema },
      responses: {
        200: jsonResponse(
          z.object({
            data: z.array(TenantSummarySchema),
            searched_by: z.enum(SEARCH_FIELDS).nullable(),
            next_cursor: z.string().nullable(),
          }),
          "A page of tenants",
        ),
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        await listTenants({
          ctx: operatorContext(c),
          input: c.req.valid("query"),
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tenants/{id}",
      operationId: "getTenant",
      tags: ["tenants"],
      summary:
        "One tenant: registry row, billing state and access, entitlements with overrides, members, recent audit, usage",
      security: operatorSecurity,
      middleware: operatorRoute("tenants:read"),
      request: { params: IdParam },
      responses: {
        200: jsonResponse(TenantDetailSchema, "The tenant"),
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(await getTenantDetail({ ctx: operatorContext(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{id}/suspend",
      operationId: "suspendTenant",
      tags: ["tenants"],
      summary: "Suspend an active tenant, with a reason",
      description: SUSPEND_BOUND,
      security: operatorSecurity,
      middleware: operatorRoute("tenants:suspend"),
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: {
        200: jsonResponse(StatusResult, "Suspended"),
        409: conflict,
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        await suspendTenant({
          ctx: operatorContext(c),
          input: { id: c.req.valid("param").id, reason: c.req.valid("json").reason },
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{id}/reactivate",
      operationId: "reactivateTenant",
      tags: ["tenants"],
      summary: "Reactivate a suspended tenant, with a reason (effective at once)",
      security: operatorSecurity,
      middleware: operatorRoute("tenants:suspend"),
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: {
        200: jsonResponse(StatusResult, "Active again"),
        409: conflict,
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        await reactivateTenant({
          ctx: operatorContext(c),
          input: { id: c.req.valid("param").id, reason: c.req.valid("json").reason },
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tenants/{id}/plan",
      operationId: "changeTenantPlan",
      tags: ["tenants"],
      summary: "Move the tenant's subscription to another plan in Stripe",
      description:
        "Updates the subscription's prices in Stripe; the tenant's plan follows when Stripe's webhook is processed (Stripe stays the authority). To give more without billing, create an override with an expiry (a comp).",
      security: operatorSecurity,
      middleware: operatorRoute("billing:write"),
      request: { params: IdParam, body: jsonBody(PlanChangeSchema) },
      responses: {
        200: jsonResponse(
          z.object({
            subscription_id: z.string(),
            status: z.string(),
            plan: z.string(),
            interval: z.string(),
            converges_via: z.literal("stripe_webhook"),
          }),
          "Stripe accepted the change",
        ),
        409: conflict,
        ...operatorErrors,
      },
    }),
    async (c) =>
      c.json(
        await changePlan({
          ctx: operatorContext(c),
          input: { ...c.req.valid("json"), tenantId: c.req.valid("param").id },
        }),
        200,
      ),
  );
