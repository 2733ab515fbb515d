import type { TenantryClient } from "@tenantry/client";
import { createContext, type MiddlewareFunction, redirect } from "react-router";
import { apiFailure, apiFor, renewed } from "./api";
import { tenantAppRequest } from "./request";
import { accessTokenLifetime, readSession, type Session, sessionCookie } from "./session";

/** The browser's session for this request (null when signed out), after any renewal. */
export const browserSession = createContext<Session | null>(null);

/** Renew this long before the access token lapses, so one page's several calls all succeed. */
const RENEW_BEFORE_SECONDS = 30;

/**
 * Root middleware: reads the session cookie and, when the access token is about to lapse, rotates
 * the pair with the refresh token before any loader or action runs, so no page handles expiry.
 * A refused refresh (revoked, signed out elsewhere) clears the cookie: the user is signed out.
 */
export const sessionMiddleware: MiddlewareFunction<Response> = async (args, next) => {
  const { env } = args.context.get(tenantAppRequest);
  const stored = readSession(args.request, env);
  let session = stored;
  if (stored && accessTokenLifetime(stored) < RENEW_BEFORE_SECONDS) {
    session = await renewed(args, stored);
  }
  args.context.set(browserSession, session);
  const response = await next();
  // A page that set the cookie itself (sign-in, sign-out) has the last word.
  const setsItsOwn = response.headers.getSetCookie().some((c) => c.includes("tenantry_session="));
  if (session !== stored && !setsItsOwn)
    response.headers.append("set-cookie", sessionCookie(env, session));
  return response;
};

interface Args {
  request: Request;
  context: Parameters<MiddlewareFunction>[0]["context"];
}

/** Where sign-in sends the user back to: this page. */
function signInFor(request: Request): string {
  const url = new URL(request.url);
  const next = url.pathname + url.search;
  return next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`;
}

/**
 * The signed-in user's API client and session for a page's loader or action; signed out, a
 * redirect to sign-in that comes back here.
 */
export function signedIn(args: Args): { api: TenantryClient; session: Session } {
  const session = args.context.get(browserSession);
  if (!session) throw redirect(signInFor(args.request));
  return { api: apiFor(args, session.accessToken), session };
}

const callers = new WeakMap<object, ReturnType<typeof fetchCaller>>();

function fetchCaller(args: Args) {
  return signedIn(args).api.GET("/v1/me");
}

/**
 * The caller (`GET /v1/me`), asked once per request and shared by the layout and the page's
 * loader, which run side by side: a page then asks only for what the caller may see, so a low
 * role opening it spends none of the API's budget for refusals.
 */
export async function signedInCaller(args: Args) {
  let pending = callers.get(args.context);
  if (!pending) {
    pending = fetchCaller(args);
    callers.set(args.context, pending);
  }
  const me = await pending;
  if (me.response.status === 401) throw signedOut(args);
  if (!me.data) throw apiFailure(me);
  return me.data;
}

/**
 * An action's form, once its CSRF field matches the session's secret; a forged or stale form is
 * a 403. Every signed-in action starts here.
 */
export async function signedInForm(
  args: Args,
): Promise<{ api: TenantryClient; session: Session; form: FormData }> {
  const { api, session } = signedIn(args);
  const form = await args.request.formData();
  if (form.get("csrf") !== session.csrf)
    throw new Response("The form is stale or was sent from another site; reload and retry.", {
      status: 403,
    });
  return { api, session, form };
}

/** Where the API refused the session outright (401): sign in again, the cookie cleared. */
export function signedOut(args: Args): Response {
  const { env } = args.context.get(tenantAppRequest);
  return redirect(signInFor(args.request), {
    headers: { "set-cookie": sessionCookie(env, null) },
  });
}
