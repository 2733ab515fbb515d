import { data, redirect } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { SsoOutcome } from "../components/sso-outcome";
import type { Route } from "./+types/sso-callback";

export function meta() {
  return [{ title: "Signing in" }];
}

/**
 * Where the identity provider sends the browser back (the connection's redirect URI): the API
 * checks state, code and ID token; its tokens become this host's session cookie.
 */
export async function loader(args: Route.LoaderArgs) {
  const q = new URL(args.request.url).searchParams;
  const refused = q.get("error");
  if (refused)
    return data(
      {
        test: null,
        idpError: `${refused}${q.get("error_description") ? `: ${q.get("error_description")}` : ""}`,
        problem: null,
      },
      { status: 401 },
    );
  const r = await apiFor(args).POST("/v1/auth/sso/callback", {
    body: { state: q.get("state") ?? "", code: q.get("code") ?? "" },
  });
  if (!r.data)
    return data({ test: null, idpError: null, problem: shownProblem(r) }, { status: 401 });
  // A "test connection" run: the claims are shown, nobody is signed in.
  if ("test" in r.data) return { test: r.data.test, idpError: null, problem: null };
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/", { headers: { "set-cookie": sessionCookie(env, newSession(r.data)) } });
}

export default function SsoCallback({ loaderData }: Route.ComponentProps) {
  return <SsoOutcome {...loaderData} />;
}
