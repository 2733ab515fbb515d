import { redirect } from "react-router";
import { apiFailure } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { sessionCookie } from "../../server/session";
import { signedInForm } from "../../server/signed-in";
import type { Route } from "./+types/sign-out";

/** Sign-out is a CSRF-checked POST: it revokes the API session, then clears the cookie. */
export async function action(args: Route.ActionArgs) {
  const { api } = await signedInForm(args);
  const result = await api.POST("/v1/auth/logout");
  // 401: the session had already ended; the cookie goes either way.
  if (result.error && result.response.status !== 401) throw apiFailure(result);
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/sign-in", { headers: { "set-cookie": sessionCookie(env, null) } });
}

export function loader() {
  return redirect("/");
}
