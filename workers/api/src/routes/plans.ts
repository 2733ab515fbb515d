import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { tenantRoute } from "../middleware/tenant-route";
import { listPlans } from "../services/plans";
import { jsonResponse, security, tenantErrors } from "./helpers";

const PlanSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  contact_sales: z.boolean().openapi({ description: "Sold by sales, not through checkout" }),
  prices: z
    .object({ month: z.number(), year: z.number() })
    .nullable()
    .openapi({ description: "In cents of `currency`; null for a plan that is not sold" }),
  features: z.array(z.string()).openapi({ description: "The features the plan includes" }),
  limits: z.array(
    z.object({
      key: z.string(),
      description: z.string(),
      period: z.enum(["month"]).nullable().openapi({ description: "null: a current total" }),
      value: z.number().nullable().openapi({ description: "null: unlimited" }),
      hard: z.boolean().openapi({ description: "Refused past the value (soft: overage billed)" }),
    }),
  ),
});

// Any member may compare plans (the catalog is no secret); acting on it needs billing:manage.
export const planRoutes = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/plans",
    operationId: "listPlans",
    tags: ["billing"],
    summary: "The plan catalog: prices per interval, limits and features of every plan",
    security,
    middleware: tenantRoute(),
    responses: {
      200: jsonResponse(
        z.object({ currency: z.string(), data: z.array(PlanSchema) }),
        "Every plan, cheapest first",
      ),
      ...tenantErrors,
    },
  }),
  (c) => c.json(listPlans(), 200),
);
