import { ProblemError, TooManyRequestsError, ValidationError } from "@tenantry/core";

export { ProblemError, TooManyRequestsError, ValidationError };

export class UnauthorizedError extends ProblemError {
  constructor(detail = "Missing or invalid credentials.") {
    super(
      401,
      "unauthorized",
      "Unauthorized",
      detail,
      {},
      {
        "WWW-Authenticate": 'Bearer realm="tenantry", error="invalid_token"',
      },
    );
  }
}

export class ForbiddenError extends ProblemError {
  constructor(
    detail: string,
    code = "forbidden",
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(403, code, "Forbidden", detail, extra, headers);
  }
}

export class NotFoundError extends ProblemError {
  constructor(what = "resource") {
    super(404, "not_found", "Not found", `The ${what} does not exist.`);
  }
}

export class MethodNotAllowedError extends ProblemError {
  constructor(allow: string[]) {
    super(
      405,
      "method_not_allowed",
      "Method not allowed",
      undefined,
      {},
      {
        Allow: allow.join(", "),
      },
    );
  }
}

export class ConflictError extends ProblemError {
  constructor(code: string, detail: string) {
    super(409, code, "Conflict", detail);
  }
}

/** The request is well-formed but its content cannot be used (e.g. IdP metadata without a key). */
export class UnprocessableError extends ProblemError {
  constructor(code: string, detail: string) {
    super(422, code, "Unprocessable content", detail);
  }
}

export class PayloadTooLargeError extends ProblemError {
  constructor(limit: number) {
    super(
      413,
      "payload_too_large",
      "Payload too large",
      `Request bodies are limited to ${limit} bytes.`,
    );
  }
}

export class ServiceUnavailableError extends ProblemError {
  constructor(code: string, detail: string, retryAfterSeconds?: number) {
    super(
      503,
      code,
      "Service unavailable",
      detail,
      {},
      retryAfterSeconds ? { "Retry-After": String(retryAfterSeconds) } : {},
    );
  }
}

/** 415: a body of a type the route refuses (a logo that is not PNG, JPEG or WebP). */
export class UnsupportedMediaTypeError extends ProblemError {
  constructor(code: string, detail: string) {
    super(415, code, "Unsupported media type", detail);
  }
}
