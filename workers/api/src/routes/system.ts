import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { newRouter } from "../app";
import type { AppEnv } from "../context";
import { config } from "../env";
import { UnauthorizedError } from "../errors";
import { sha256Hex } from "../lib/crypto";
import { poolStatus } from "../services/pool";
import { jsonResponse, tenantErrors } from "./helpers";

/**
 * The health detail is for operators' monitoring: `Authorization: Bearer <HEALTH_TOKEN>` when that
 * secret is set. Without it the route is open in development and test, and closed in production.
 */
const requireHealthToken = createMiddleware<AppEnv>(async (c, next) => {
  const cfg = config(c.env);
  if (cfg.HEALTH_TOKEN || cfg.ENVIRONMENT === "production") {
    const given = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
    // Hashes compared, so the comparison's time says nothing about the token.
    if (
      !given ||
      !cfg.HEALTH_TOKEN ||
      (await sha256Hex(given)) !== (await sha256Hex(cfg.HEALTH_TOKEN))
    ) {
      throw new UnauthorizedError(
        "GET /healthz/detail needs Authorization: Bearer <HEALTH_TOKEN>.",
      );
    }
  }
  await next();
});

const PoolStatusSchema = z.object({
  size: z.number().int(),
  assigned: z.number().int(),
  free: z.number().int(),
  low_water: z.number().int(),
  low: z.boolean(),
});

/**
 * `/healthz` is liveness only: it touches no database, so it is also the benchmark's bare
 * baseline. `/healthz/detail` reads the pool's counts.
 */
export const systemRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      tags: ["system"],
      responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "Alive") },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/healthz/detail",
      tags: ["system"],
      summary: "Tenant database pool capacity, for operators (bearer HEALTH_TOKEN)",
      middleware: [requireHealthToken] as const,
      responses: {
        200: jsonResponse(
          z.object({ status: z.enum(["ok", "degraded"]), pool: PoolStatusSchema }),
          "`degraded` when the free pool is at or below its low-water mark",
        ),
        401: tenantErrors[401],
      },
    }),
    async (c) => {
      const pool = await poolStatus(c.env);
      return c.json({ status: pool.low ? ("degraded" as const) : ("ok" as const), pool }, 200);
    },
  )
  .get("/docs", (c) =>
    c.html(`<!doctype html>
<html><head><title>Tenantry API reference</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0"></script></body></html>`),
  );
