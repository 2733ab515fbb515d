import { createTenantryClient, problemMessage, type TenantryClient } from "@tenantry/client";
import { data, redirect } from "react-router";
import { type TenantAppRequest, tenantAppRequest } from "./request";
import { type Session, sessionCookie } from "./session";

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

/** A fresh token pair from the session's refresh token (which it rotates), or null if refused. */
export async function renewed(args: Args, session: Session): Promise<Session | null> {
  const { data: tokens } = await apiFor(args).POST("/v1/auth/refresh", {
    body: { refresh_token: session.refreshToken },
  });
  return tokens ? { accessToken: tokens.access_token, refreshToken: tokens.refresh_token } : null;
}

/**
 * What a page loader answers when the API refused the session's access token: with a fresh pair,
 * the same page again (a redirect carries the new cookie); when the refresh is refused too
 * (signed out elsewhere, revoked, expired), the sign-in page.
 */
export async function renewedOrSignedOut(args: Args, session: Session): Promise<Response> {
  const { env } = args.context.get(tenantAppRequest);
  const fresh = await renewed(args, session);
  return redirect(fresh ? args.request.url : "/sign-in", {
    headers: { "set-cookie": sessionCookie(env, fresh) },
  });
}
