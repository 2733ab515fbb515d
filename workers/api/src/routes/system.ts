import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { jsonResponse } from "./helpers";

/** Liveness only: it touches no database, so it is also the benchmark's bare baseline. */
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
  .get("/docs", (c) =>
    c.html(`<!doctype html>
<html><head><title>Tenantry API reference</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0"></script></body></html>`),
  );
