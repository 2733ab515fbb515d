import { newId } from "@tenantry/schema";
import type { Context, Hono, Schema } from "hono";
import { HTTPException } from "hono/http-exception";
import { log } from "./log";
import { ProblemError, renderProblem } from "./problem";

/** What the shell puts on every request's context. */
export interface WorkerVariables {
  requestId: string;
}

export interface WorkerAppOptions<E extends { Variables: WorkerVariables }> {
  /** The request's tenant, when a middleware resolved one: unexpected errors are logged with it. */
  tenantOf?: (c: Context<E>) => string | undefined;
  /** `detail` of the 404 for an unknown route. */
  notFoundDetail?: string;
  /** `detail` of the 500 for an unexpected error. */
  internalErrorDetail?: string;
}

/**
 * The one error mapper: typed problems keep their status; Hono's own exceptions keep theirs;
 * anything else is a 500 that leaks nothing.
 */
function toProblem(
  err: unknown,
  internalErrorDetail = "An unexpected error occurred.",
): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400) {
      return new ProblemError(
        400,
        "invalid_request",
        "Invalid request",
        "The request body is not valid JSON.",
      );
    }
    return new ProblemError(err.status, "http_error", err.message || "Error");
  }
  return new ProblemError(500, "internal_error", "Internal server error", internalErrorDetail);
}

/**
 * Gives a worker's Hono app the shell every worker and app shares: a request id on the context
 * and as `x-request-id` on every response, RFC 9457 problems for errors (unexpected ones
 * logged), and a 404 problem for unknown routes. Sub-apps mounted with `route()` do not
 * inherit `notFound`, so only the top-level app goes through here.
 */
export function initWorkerApp<
  E extends { Variables: WorkerVariables },
  S extends Schema,
  B extends string,
>(app: Hono<E, S, B>, options: WorkerAppOptions<E> = {}): void {
  app.use("*", async (c, next) => {
    c.set("requestId", newId("request"));
    await next();
    c.res.headers.set("x-request-id", c.get("requestId"));
  });
  app.onError((err, c) => {
    const problem = toProblem(err, options.internalErrorDetail);
    // Expected problems (4xx, planned 503s) are answers, not incidents; log only the unexpected.
    if (problem.status >= 500 && !(err instanceof ProblemError)) {
      const tenantId = options.tenantOf?.(c);
      (tenantId ? log.forTenant(tenantId) : log).error("unexpected error", {
        request_id: c.get("requestId"),
        path: new URL(c.req.url).pathname,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    return respond(problem, c.get("requestId"), c.req.url);
  });
  app.notFound((c) =>
    respond(
      new ProblemError(
        404,
        "not_found",
        "Not found",
        options.notFoundDetail ?? "The route does not exist.",
      ),
      c.get("requestId"),
      c.req.url,
    ),
  );
}

function respond(problem: ProblemError, requestId: string | undefined, url: string): Response {
  // No request id only when the request failed before the request-id middleware ran.
  return renderProblem(problem, { requestId: requestId ?? "", url });
}
