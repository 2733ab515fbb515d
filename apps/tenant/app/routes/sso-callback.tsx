import { data, Link, redirect } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { ProblemNotice } from "../components/problem";
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
  const { test } = loaderData;
  if (test)
    return (
      <main className="page narrow stack">
        <h1>Connection test</h1>
        <p className={`notice ${test.domain_served ? "ok" : "warn"}`} role="status">
          The provider's ID token checked out.{" "}
          {test.domain_served
            ? "This email is on a verified domain of the connection: its owner could sign in."
            : "This email is not on a verified domain of the connection: its owner would be refused."}
        </p>
        <h2>Claims</h2>
        <pre>{JSON.stringify(test.claims, null, 2)}</pre>
        <p>
          <Link to="/settings/sso">Back to single sign-on</Link>
        </p>
      </main>
    );
  return (
    <main className="page narrow">
      <h1>Single sign-on did not complete</h1>
      {loaderData.idpError && (
        <p className="notice error" role="alert">
          Your identity provider answered: {loaderData.idpError}
        </p>
      )}
      <ProblemNotice problem={loaderData.problem} />
      <p>
        <Link to="/sign-in">Back to sign-in</Link>
      </p>
    </main>
  );
}
