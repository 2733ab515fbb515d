import type { z } from "zod";

/** Base of every error a worker turns into an RFC 9457 problem. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** 429 with Retry-After: quotas, rate limits and attempt budgets. */
export class TooManyRequestsError extends ProblemError {
  constructor(
    detail: string,
    retryAfterSeconds: number,
    code = "too_many_requests",
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(429, code, "Too many requests", detail, extra, {
      ...headers,
      "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}

const PROBLEM_BASE = "https://tenantry.dev/problems/";

/** Renders an RFC 9457 problem document carrying the request id (body and `x-request-id`). */
export function renderProblem(
  err: ProblemError,
  request: { requestId: string; url: string },
): Response {
  const body = {
    type: `${PROBLEM_BASE}${err.code}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    instance: new URL(request.url).pathname,
    code: err.code,
    request_id: request.requestId,
    ...err.extra,
  };
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": request.requestId,
      ...err.headers,
    },
  });
}

/** Hono's validation targets, as a client would name them. */
const TARGET_NAMES: Record<string, string> = {
  json: "body",
  param: "path",
  query: "query",
  header: "header",
};

/** A 400 problem listing each invalid field (`body.email`, `query.limit`). */
export class ValidationError extends ProblemError {
  constructor(detail: string, errors: { path: string; message: string }[] = []) {
    super(400, "invalid_request", "Invalid request", detail, { errors });
  }

  static fromZod(error: z.ZodError, target = "json"): ValidationError {
    const where = TARGET_NAMES[target] ?? target;
    const errors = error.issues.map((i) => ({
      path: [where, ...i.path.map(String)].join("."),
      message: i.message,
    }));
    return new ValidationError(`The request ${where} is invalid.`, errors);
  }
}
