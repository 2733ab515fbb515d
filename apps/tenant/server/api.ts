import { createTenantryClient, problemMessage, type TenantryClient } from "@tenantry/client";
import { data } from "react-router";
import { type TenantAppRequest, tenantAppRequest } from "./request";

interface Args {
  request: Request;
  context: { get(key: typeof tenantAppRequest): TenantAppRequest };
}

/**
 * The API worker's client for this request: through the service binding, at this request's
 * origin, so the API resolves the tenant from the same Host the browser used.
 */
export function apiFor({ request, context }: Args, token?: string): TenantryClient {
  const { env } = context.get(tenantAppRequest);
  return createTenantryClient({
    baseUrl: new URL(request.url).origin,
    fetch: (req) => env.API.fetch(req),
    ...(token && { token }),
  });
}

/** A failed API call as the error page shows it: its problem and request id, its status. */
export function apiFailure(result: { error?: unknown; response: Response }) {
  return data(problemMessage(result), { status: result.response.status });
}
