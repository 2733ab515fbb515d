import { createRoute, z } from "@hono/zod-openapi";
import { initWorkerApp } from "@tenantry/core";
import { accessGate } from "./access";
import {
  jsonResponse,
  newAdminRouter,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "./router";
import { billingRoutes } from "./routes/billing";
import { fleetRoutes } from "./routes/fleet";
import { integrityRoutes } from "./routes/integrity";
import { operatorAuditRoutes } from "./routes/operator-audit";
import { operatorRoutes } from "./routes/operators";
import { overrideRoutes } from "./routes/overrides";
import { supportRoutes } from "./routes/support";
import { tenantRoutes } from "./routes/tenants";

/** The admin JSON API under /api (automation and scripts); the app's pages call the same verbs. */
export const adminApi = newAdminRouter().basePath("/api");
initWorkerApp(adminApi, { notFoundDetail: "The admin API has no such route." });
adminApi.use("*", accessGate);

/** The bare route benchmarks compare against: no database, no operator. */
adminApi.get("/health", (c) => c.json({ ok: true }));

const OperatorSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.string(),
    via: z.object({ type: z.string(), id: z.string() }),
  })
  .openapi("Operator");

adminApi.openapi(
  createRoute({
    method: "get",
    path: "/v1/me",
    operationId: "getOperator",
    tags: ["operators"],
    summary: "The operator the credential belongs to, with the role it acts with",
    security: operatorSecurity,
    middleware: operatorRoute("tenants:read"),
    responses: {
      200: jsonResponse(z.object({ operator: OperatorSchema }), "The operator"),
      ...operatorErrors,
    },
  }),
  (c) => c.json({ operator: c.get("operator") }, 200),
);

// Area routers (server/routes/*) are mounted here: adminApi.route("/", <area>Routes).
adminApi.route("/", supportRoutes);
adminApi.route("/", operatorAuditRoutes);
// Area routers (server/routes/*), one line each.
adminApi.route("/", integrityRoutes);
adminApi.route("/", billingRoutes);
adminApi.route("/", fleetRoutes);
adminApi.route("/", operatorRoutes);
adminApi.route("/", tenantRoutes);
adminApi.route("/", overrideRoutes);

adminApi.openAPIRegistry.registerComponent("securitySchemes", "operatorToken", {
  type: "http",
  scheme: "bearer",
  description: "An operator API token (`tnop_…`), created in the admin app; its role applies.",
});
adminApi.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Tenantry admin API", version: "1.0.0" },
  servers: [{ url: "/", description: "The admin host: admin.<BASE_DOMAIN>" }],
});
