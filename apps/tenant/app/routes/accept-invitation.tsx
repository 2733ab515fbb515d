import { data, Form, redirect, useActionData, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/accept-invitation";

export function meta() {
  return [{ title: "Accept invitation" }];
}

/**
 * GET shows what the token invites to (`POST /v1/invitations/preview` reads, never consumes: a
 * mail scanner opening the link changes nothing); an invalid, used or expired one says so here.
 */
export async function loader(args: Route.LoaderArgs) {
  const token = new URL(args.request.url).searchParams.get("token") ?? "";
  if (!token) return { token, invitation: null, problem: null };
  const r = await apiFor(args).POST("/v1/invitations/preview", { body: { token } });
  if (r.data) return { token, invitation: r.data, problem: null };
  return data({ token, invitation: null, problem: shownProblem(r) }, { status: r.response.status });
}

/**
 * Accepting is this POST: the API binds the invitation to the invited email, creating the account
 * with the chosen password or checking the existing account's; the person is then signed in here.
 */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const token = String(form.get("token") ?? "");
  const password = String(form.get("password") ?? "");
  const result = await apiFor(args).POST("/v1/invitations/accept", { body: { token, password } });
  if (!result.data) return { problem: shownProblem(result) };
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/", { headers: { "set-cookie": sessionCookie(env, newSession(result.data)) } });
}

export default function AcceptInvitation({ loaderData }: Route.ComponentProps) {
  const { token, invitation, problem } = loaderData;
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  if (!invitation) {
    return (
      <main className="page narrow stack">
        <h1>Accept invitation</h1>
        {problem ? (
          <ProblemNotice problem={problem} />
        ) : (
          <p className="notice error" role="alert">
            This link has no invitation token. Open the link from your invitation email exactly as
            it was sent.
          </p>
        )}
        <p>Ask whoever invited you for a new invitation.</p>
      </main>
    );
  }
  const existing = invitation.account_exists;
  return (
    <main className="page narrow stack">
      <h1>Join {invitation.organization_name}</h1>
      <p>
        You are invited as <strong>{invitation.role}</strong>, with the address{" "}
        <strong>{invitation.email}</strong>.
      </p>
      <ProblemNotice problem={failed?.problem} />
      <Form method="post" className="card stack">
        <input type="hidden" name="token" value={token} />
        {existing ? (
          <label>
            The password of your account ({invitation.email})
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
        ) : (
          <label>
            Choose a password (at least 10 characters)
            <input
              name="password"
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
            />
          </label>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {existing ? "Sign in and join" : "Create account and join"}
        </button>
      </Form>
    </main>
  );
}
