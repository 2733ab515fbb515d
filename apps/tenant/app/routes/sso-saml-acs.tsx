import { data, redirect } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { SsoOutcome } from "../components/sso-outcome";
import type { Route } from "./+types/sso-saml-acs";

export function meta() {
  return [{ title: "Signing in" }];
}

/**
 * A SAML connection's Assertion Consumer Service (HTTP-POST binding): the IdP's page posts
 * SAMLResponse and RelayState here from its own site (server/same-origin.ts lets exactly this
 * path through). The API verifies the response; its tokens become this host's session cookie.
 */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const value = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" ? v : null;
  };
  const r = await apiFor(args).POST("/v1/auth/sso/saml/{id}/acs", {
    params: { path: { id: args.params.id } },
    body: { saml_response: value("SAMLResponse") ?? "", relay_state: value("RelayState") },
  });
  if (!r.data)
    return data({ test: null, idpError: null, problem: shownProblem(r) }, { status: 401 });
  // A "test connection" run: the claims are shown, nobody is signed in.
  if ("test" in r.data) return { test: r.data.test, idpError: null, problem: null };
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/", { headers: { "set-cookie": sessionCookie(env, newSession(r.data)) } });
}

/** Without a posted response (a GET: a bookmark, the back button) there is nothing to finish. */
export default function SamlAcs({ actionData }: Route.ComponentProps) {
  return <SsoOutcome {...(actionData ?? { test: null, idpError: null, problem: null })} />;
}
