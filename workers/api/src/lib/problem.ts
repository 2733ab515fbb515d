import { renderProblem } from "@tenantry/core";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../context";
import { ProblemError } from "../errors";

/** Renders an RFC 9457 problem document with the request id. */
export function problemResponse(c: Context<AppEnv>, err: ProblemError): Response {
  return renderProblem(err, { requestId: c.get("requestId") ?? "", url: c.req.url });
}

/** The one error mapper: typed errors keep their status; anything else is a 500 with no leak. */
export function toProblem(err: unknown): ProblemError {
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
  return new ProblemError(
    500,
    "internal_error",
    "Internal server error",
    "An unexpected error occurred.",
  );
}
