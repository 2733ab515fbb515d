import { OpenAPIHono } from "@hono/zod-openapi";
import { newId } from "@tenantry/schema";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./context";
import {
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ProblemError,
  ValidationError,
} from "./errors";
import { problemResponse, toProblem } from "./lib/problem";

export const MAX_BODY_BYTES = 64 * 1024;
/** Routes that take larger bodies: usage ingestion carries up to 1,000 events. */
const LARGE_BODY_BYTES: Record<string, number> = { "/v1/usage/events": 1024 * 1024 };

/** A router with the shared zod hook: invalid input becomes a 400 problem before any handler. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ValidationError.fromZod(result.error, result.target);
    },
  });
}

/** The worker's app: request ids, body limits and the one error mapper. */
export function newApp() {
  const app = newRouter();
  app.use("*", async (c, next) => {
    c.set("requestId", newId("request"));
    await next();
    c.res.headers.set("x-request-id", c.get("requestId"));
  });
  app.use("*", (c, next) => {
    const maxSize = LARGE_BODY_BYTES[c.req.path] ?? MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new PayloadTooLargeError(maxSize);
      },
    })(c, next);
  });
  app.onError((err, c) => {
    const problem = toProblem(err);
    // Expected problems (4xx, planned 503s) are answers, not incidents; log only the unexpected.
    if (problem.status >= 500 && !(err instanceof ProblemError)) {
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          tenant_id: c.get("tenant")?.id,
          path: new URL(c.req.url).pathname,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
      );
    }
    return problemResponse(c, problem);
  });
  app.notFound((c) => problemResponse(c, new NotFoundError("route")));
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
