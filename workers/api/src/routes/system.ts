import { createRoute, z } from "@hono/zod-openapi";
import { sha256Hex } from "@tenantry/core/crypto";
import { createMiddleware } from "hono/factory";
// The package exports no path to its browser build, hence the relative import; wrangler.toml's
// `rules` load the file as text (the smallest self-contained build: ~4.9 MB, ~1.4 MB gzipped).
import scalarScript from "../../../../node_modules/@scalar/api-reference/dist/browser/standalone.js";
import { newRouter } from "../app";
import type { AppEnv } from "../context";
import { config } from "../env";
import { UnauthorizedError } from "../errors";
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
 * The reference page runs only the script this worker serves: no CDN, no inline script, and
 * nothing leaves the origin (Scalar's web fonts and telemetry are off; styles are injected at
 * runtime, hence 'unsafe-inline' for styles only).
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SCALAR_CONFIG = JSON.stringify({
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
});

const DOCS_PAGE = `<!doctype html>
<html><head><title>Tenantry API reference</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/openapi.json" data-configuration='${SCALAR_CONFIG}'></script>
<script src="/docs/scalar.js"></script></body></html>`;

/**
 * `/healthz` is liveness only: it touches no database, so it is also the benchmark's bare
 * baseline. `/healthz/detail` reads the pool's counts.
 */
export const systemRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      operationId: "getHealth",
      summary: "Liveness check",
      security: [],
      tags: ["system"],
      responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "Alive") },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/healthz/detail",
      operationId: "getHealthDetail",
      // Its own bearer (HEALTH_TOKEN), not a tenant credential.
      security: [],
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
    c.html(DOCS_PAGE, 200, {
      "content-security-policy": DOCS_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    }),
  )
  // Unversioned URL: a day's cache, so an upgrade reaches browsers within a day.
  .get("/docs/scalar.js", (c) =>
    c.body(scalarScript, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=86400",
      "x-content-type-options": "nosniff",
    }),
  );
