import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../context";
import { ProblemError } from "../errors";

const PROBLEM_BASE = "https://tenantry.dev/problems/";

/** Renders an RFC 9457 problem document with the request id. */
export function problemResponse(c: Context<AppEnv>, err: ProblemError): Response {
  const body = {
    type: `${PROBLEM_BASE}${err.code}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    instance: new URL(c.req.url).pathname,
    code: err.code,
    request_id: c.get("requestId"),
    ...err.extra,
  };
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": c.get("requestId") ?? "",
      ...err.headers,
    },
  });
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
