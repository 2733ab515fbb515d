import { Form, redirect, useActionData, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/accept-invitation";

export function meta() {
  return [{ title: "Accept invitation" }];
}

/** GET only reads the token into the page: a mail scanner opening the link consumes nothing. */
export function loader({ request }: Route.LoaderArgs) {
  return { token: new URL(request.url).searchParams.get("token") ?? "" };
}

/**
 * Accepting is this POST: the API binds the invitation to the invited email, creating the account
 * with the chosen password or checking an existing account's password; the person is then
 * signed in here with the session the API returns.
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
  const { token } = loaderData;
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  if (!token) {
    return (
      <main className="page narrow">
        <h1>Accept invitation</h1>
        <p className="notice error" role="alert">
          This link has no invitation token. Open the link from your invitation email exactly as it
          was sent, or ask for a new invitation.
        </p>
      </main>
    );
  }
  return (
    <main className="page narrow stack">
      <h1>Accept invitation</h1>
      <p>The invitation is for the email address it was sent to, and works once within 7 days.</p>
      <ProblemNotice problem={failed?.problem} />
      <Form method="post" className="card stack" aria-labelledby="new-account">
        <h2 id="new-account">New here? Choose a password</h2>
        <input type="hidden" name="token" value={token} />
        <label>
          New password (at least 10 characters)
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={10}
            required
          />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Create account and join
        </button>
      </Form>
      <Form method="post" className="card stack" aria-labelledby="existing-account">
        <h2 id="existing-account">Already have an account with this email?</h2>
        <input type="hidden" name="token" value={token} />
        <label>
          Your current password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Sign in and join
        </button>
      </Form>
    </main>
  );
}
