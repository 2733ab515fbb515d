import { createRoute, z } from "@hono/zod-openapi";
// The package exports no path to its browser build, hence the relative import; wrangler.toml's
// `rules` load the file as text (the smallest self-contained build: ~4.9 MB, ~1.4 MB gzipped).
import scalarScript from "../../../../node_modules/@scalar/api-reference/dist/browser/standalone.js";
import { newRouter } from "../app";
import { jsonResponse } from "./helpers";

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

/** Liveness only: it touches no database, so it is also the benchmark's bare baseline. */
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
