import { OpenAPIHono } from "@hono/zod-openapi";
import { initWorkerApp } from "@tenantry/core";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./context";
import { MethodNotAllowedError, PayloadTooLargeError, ValidationError } from "./errors";
import { MAX_LOGO_BYTES } from "./services/logo";

export const MAX_BODY_BYTES = 64 * 1024;
/** Routes with their own body limit: usage ingestion carries up to 1,000 events; logos. */
const LARGE_BODY_BYTES: Record<string, number> = {
  "/v1/usage/events": 1024 * 1024,
  "/v1/settings/logo": MAX_LOGO_BYTES,
};

/** A router with the shared zod hook: invalid input becomes a 400 problem before any handler. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ValidationError.fromZod(result.error, result.target);
    },
  });
}

/** The worker's app: the shared worker shell (request ids, the one error mapper), body limits. */
export function newApp() {
  const app = newRouter();
  initWorkerApp(app, { tenantOf: (c) => c.get("tenant")?.id });
  app.use("*", (c, next) => {
    const maxSize = LARGE_BODY_BYTES[c.req.path] ?? MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new PayloadTooLargeError(maxSize);
      },
    })(c, next);
  });
  return app;
}

/**
 * After all routes are mounted: a path that exists under other methods answers 405 with `Allow`,
 * not 404.
 */
export function addMethodNotAllowed(app: ReturnType<typeof newRouter>) {
  const byPath = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    const methods = byPath.get(r.path) ?? new Set<string>();
    methods.add(r.method);
    byPath.set(r.path, methods);
  }
  for (const [path, methods] of byPath) {
    const allow = [...methods];
    app.all(path, () => {
      throw new MethodNotAllowedError(allow);
    });
  }
}
