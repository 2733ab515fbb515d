import { createTenantryClient, problemMessage, type TenantryClient } from "@tenantry/client";
import { data } from "react-router";
import type { TenantAppEnv } from "./env";
import { type TenantAppRequest, tenantAppRequest } from "./request";
import type { Session } from "./session";

interface Args {
  request: Request;
  context: { get(key: typeof tenantAppRequest): TenantAppRequest };
}

/**
 * The API worker's client for this request: through the service binding, at this request's
 * origin, so the API resolves the tenant from the same Host the browser used.
 */
export function apiFor({ request, context }: Args, token?: string): TenantryClient {
  return apiAt(context.get(tenantAppRequest).env, new URL(request.url).origin, request, token);
}

/**
 * The API worker's client at an origin (the apex's sign-up hands off to a tenant's host), on
 * behalf of the browser that sent `from`. Its address (`cf-connecting-ip`, set by Cloudflare on
 * the request that reached this worker) goes along: the API budgets sign-in, sign-up and its
 * other public routes per client, and a call through the binding carries only what we give it,
 * so without it every person using the app would share one budget.
 */
export function apiAt(
  env: TenantAppEnv,
  origin: string,
  from: Request,
  token?: string,
): TenantryClient {
  const ip = from.headers.get("cf-connecting-ip");
  return createTenantryClient({
    baseUrl: origin,
    fetch: (req) => {
      if (ip) req.headers.set("cf-connecting-ip", ip);
      return withinBudget(req, (r) => env.API.fetch(r));
    },
    ...(token && { token }),
  });
}

/**
 * A call refused by the tenant's per-second request budget (429 `rate_limited`, Retry-After: 1)
 * is sent once more a second later: a page costs a few API calls, and a burst of clicks on the
 * free plan's 10 a second should slow the next page, not fail it. Safe for writes too: the API
 * admits a request before any of its work runs, so a refused one changed nothing. A longer wait
 * (the per-minute budget, the monthly quota, a sign-in throttle) is the API's answer to show.
 */
async function withinBudget(
  request: Request,
  send: (request: Request) => Promise<Response>,
): Promise<Response> {
  // A copy to send again (a body can be read once); the workers types give clone() a wider type.
  const retry = request.clone() as typeof request;
  const response = await send(request);
  if (response.status !== 429 || response.headers.get("retry-after") !== "1") return response;
  const problem = (await response
    .clone()
    .json()
    .catch(() => null)) as { code?: string } | null;
  if (problem?.code !== "rate_limited") return response;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return send(retry);
}

/** A failed API call as the error page shows it: its problem and request id, its status. */
export function apiFailure(result: { error?: unknown; response: Response }) {
  return data(problemMessage(result), { status: result.response.status });
}

/**
 * A failed API call as a form shows it beside the fields: the line to read (with the request
 * id) and the problem's `code`, which `ProblemNotice` explains (plan limits, read-only billing).
 */
export interface ShownProblem {
  message: string;
  status: number;
  code: string | null;
}

export function shownProblem(result: { error?: unknown; response: Response }): ShownProblem {
  const code =
    typeof result.error === "object" && result.error !== null && "code" in result.error
      ? String(result.error.code)
      : null;
  return { message: problemMessage(result), status: result.response.status, code };
}

/** The session with a fresh token pair (the refresh token rotates), or null if refused. */
export async function renewed(args: Args, session: Session): Promise<Session | null> {
  const { data: tokens } = await apiFor(args).POST("/v1/auth/refresh", {
    body: { refresh_token: session.refreshToken },
  });
  return tokens
    ? { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, csrf: session.csrf }
    : null;
}
