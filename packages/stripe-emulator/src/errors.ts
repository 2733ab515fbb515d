/**
 * Stripe's error shape: `{ error: { type, code, message, param, ... } }`
 * (https://docs.stripe.com/api/errors). Status codes follow the same page:
 * 400 invalid request, 401 bad key, 402 card error, 404 missing resource, 409 conflict.
 */
export type StripeErrorType =
  | "invalid_request_error"
  | "card_error"
  | "idempotency_error"
  | "api_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, body: StripeErrorBody, headers: Record<string, string> = {}) {
    super(body.message);
    this.status = status;
    this.body = body.code
      ? {
          ...body,
          doc_url: `https://stripe.com/docs/error-codes/${body.code.replaceAll("_", "-")}`,
        }
      : body;
    this.headers = headers;
  }
}

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, { type: "invalid_request_error", message, param, code });
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, param, "parameter_missing");
}

export function invalidParam(
  param: string,
  message: string,
  code = "parameter_invalid",
): StripeApiError {
  return invalidRequest(message, param, code);
}

/** `No such customer: 'cus_x'` with `resource_missing`, as Stripe answers unknown ids. */
export function noSuch(kind: string, id: string, param = "id", status = 404): StripeApiError {
  return new StripeApiError(status, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function cardDeclined(message = "Your card was declined."): StripeApiError {
  return new StripeApiError(402, {
    type: "card_error",
    code: "card_declined",
    decline_code: "generic_decline",
    message,
  });
}

export function errorResponseBody(error: StripeApiError): string {
  return JSON.stringify({ error: error.body }, null, 2);
}
