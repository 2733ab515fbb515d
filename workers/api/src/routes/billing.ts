import { createRoute, z } from "@hono/zod-openapi";
import { INTERVALS, PLAN_IDS } from "@tenantry/plans";
import { newRouter } from "../app";
import { resolveTenant } from "../middleware/tenant";
import { tenantRoute } from "../middleware/tenant-route";
import {
  billingOverview,
  completeCheckout,
  createCheckout,
  createPortal,
} from "../services/billing";
import {
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  tenantErrors,
  tenantRequestContext,
  unavailableError,
} from "./helpers";

const UrlSchema = z.object({ url: z.string() });

export const billingRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/billing",
      operationId: "getBilling",
      tags: ["billing"],
      summary: "Plan, subscription status, period, entitlements and recent invoices",
      security,
      middleware: tenantRoute("billing:read", { essential: true }),
      responses: {
        200: jsonResponse(
          z.object({
            plan: z.string(),
            subscribed_plan: z.string(),
            status: z.string().nullable(),
            access: z.string(),
            interval: z.string().nullable(),
            current_period_end: z.string().nullable(),
            cancel_at_period_end: z.boolean(),
            trial_end: z.string().nullable(),
            grace_ends_at: z.string().nullable(),
            entitlements: z.record(z.string(), z.unknown()),
            invoices: z.array(z.record(z.string(), z.unknown())).nullable(),
          }),
          "Billing state as last synced from Stripe",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await billingOverview({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/billing/checkout",
      operationId: "createCheckoutSession",
      tags: ["billing"],
      summary: "Start a Stripe Checkout for a paid plan",
      security,
      middleware: tenantRoute("billing:manage", { essential: true, refuseSupport: true }),
      request: {
        body: jsonBody(
          z.strictObject({ plan: z.enum(PLAN_IDS).exclude(["free"]), interval: z.enum(INTERVALS) }),
        ),
      },
      responses: {
        200: jsonResponse(UrlSchema, "Redirect the browser here"),
        503: unavailableError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await createCheckout({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/billing/portal",
      operationId: "createPortalSession",
      tags: ["billing"],
      summary: "Open the Stripe billing portal (change plan, cancel, invoices)",
      security,
      middleware: tenantRoute("billing:manage", { essential: true, refuseSupport: true }),
      responses: {
        200: jsonResponse(UrlSchema, "Redirect the browser here"),
        503: unavailableError,
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await createPortal({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/billing/checkout/complete",
      operationId: "completeCheckout",
      tags: ["billing"],
      summary:
        "Checkout's success redirect: re-syncs the plan from Stripe, then redirects to the app",
      security: [],
      middleware: [resolveTenant] as const,
      request: { query: z.strictObject({ session_id: z.string().min(1).max(200) }) },
      responses: { 303: { description: "To the tenant app's billing page" }, ...tenantErrors },
    }),
    async (c) =>
      c.redirect(
        await completeCheckout({ ctx: tenantRequestContext(c), input: c.req.valid("query") }),
        303,
      ),
  );
