import { redirect } from "react-router";
import { apiFailure, apiFor, renewed } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { csrfToken, readSession, sessionCookie } from "../../server/session";
import type { Route } from "./+types/sign-out";

/** Sign-out is a CSRF-checked POST: it revokes the API session, then clears the cookie. */
export async function action(args: Route.ActionArgs) {
  const { env } = args.context.get(tenantAppRequest);
  const session = readSession(args.request, env);
  if (!session) throw redirect("/sign-in");
  const sent = (await args.request.formData()).get("csrf");
  if (sent !== (await csrfToken(session)))
    throw new Response("The form is stale or was sent from another site; reload and retry.", {
      status: 403,
    });
  let result = await apiFor(args, session.accessToken).POST("/v1/auth/logout");
  // An expired access token: renew it so the session is revoked, not merely forgotten.
  if (result.response.status === 401) {
    const fresh = await renewed(args, session);
    if (fresh) result = await apiFor(args, fresh.accessToken).POST("/v1/auth/logout");
  }
  // Still 401: the session had already ended; the cookie goes either way.
  if (result.error && result.response.status !== 401) throw apiFailure(result);
  return redirect("/sign-in", { headers: { "set-cookie": sessionCookie(env, null) } });
}

export function loader() {
  return redirect("/");
}
