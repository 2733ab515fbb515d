import { data, Link, redirect } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/auth-handoff";

export function meta() {
  return [{ title: "Signing in" }];
}

/**
 * Where sign-up on the apex sends the new owner (ADR 018): the one-time code becomes this host's
 * session cookie, and the URL that carried it is dead once redeemed (or a minute after minting).
 */
export async function loader(args: Route.LoaderArgs) {
  const code = new URL(args.request.url).searchParams.get("code") ?? "";
  const redeemed = await apiFor(args).POST("/v1/auth/handoff/redeem", { body: { code } });
  if (!redeemed.data) return data({ problem: shownProblem(redeemed) }, { status: 401 });
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/", {
    headers: { "set-cookie": sessionCookie(env, newSession(redeemed.data)) },
  });
}

export default function AuthHandoff({ loaderData }: Route.ComponentProps) {
  return (
    <main className="page narrow">
      <h1>This sign-in link no longer works</h1>
      <p>
        Links that finish a sign-up work once, within a minute. Your organisation is ready: sign in
        with your email and password.
      </p>
      <ProblemNotice problem={loaderData.problem} />
      <p>
        <Link to="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}
