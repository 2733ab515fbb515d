import { Form, Link, redirect, useActionData, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { newSession, sessionCookie } from "../../server/session";
import { browserSession } from "../../server/signed-in";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/sign-in";

export function meta() {
  return [{ title: "Sign in" }];
}

/** Only a path on this host: `?next=//evil.example` must not become an open redirect. */
function nextPath(request: Request): string {
  const next = new URL(request.url).searchParams.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function loader({ request, context }: Route.LoaderArgs) {
  if (context.get(browserSession)) throw redirect(nextPath(request));
  return null;
}

/**
 * Email and password go to the API's login; its tokens stay in the HttpOnly session cookie. A
 * member with MFA gets a challenge instead: the page then asks for a code (`intent=mfa`), with
 * the challenge in a hidden field (it only proves the password, for 5 minutes).
 */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const email = String(form.get("email") ?? "");
  const { env } = args.context.get(tenantAppRequest);
  const signedInAs = (tokens: { access_token: string; refresh_token: string }) =>
    redirect(nextPath(args.request), {
      headers: { "set-cookie": sessionCookie(env, newSession(tokens)) },
    });
  if (form.get("intent") === "mfa") {
    const challenge = String(form.get("challenge") ?? "");
    const code = String(form.get("code") ?? "");
    const r = await apiFor(args).POST("/v1/auth/login/mfa", { body: { challenge, code } });
    if (!r.data) return { email, challenge, problem: shownProblem(r) };
    return signedInAs(r.data);
  }
  const password = String(form.get("password") ?? "");
  const result = await apiFor(args).POST("/v1/auth/login", { body: { email, password } });
  if (!result.data) return { email, challenge: null, problem: shownProblem(result) };
  if ("mfa_required" in result.data)
    return { email, challenge: result.data.challenge, problem: null };
  return signedInAs(result.data);
}

export default function SignIn() {
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <ProblemNotice problem={failed?.problem} />
      {failed?.challenge ? (
        <Form method="post" className="stack">
          <input type="hidden" name="intent" value="mfa" />
          <input type="hidden" name="challenge" value={failed.challenge} />
          <input type="hidden" name="email" value={failed.email} />
          <label>
            Code from your authenticator app, or a recovery code
            <input
              name="code"
              required
              autoComplete="one-time-code"
              maxLength={20}
              spellCheck={false}
              // biome-ignore lint/a11y/noAutofocus: the one field of this step
              autoFocus
            />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            Verify
          </button>
          <p>
            <Link to="/sign-in">Start over</Link>
          </p>
        </Form>
      ) : (
        <Form method="post" className="stack">
          <label>
            Email
            <input
              name="email"
              type="email"
              autoComplete="username"
              required
              defaultValue={failed?.email}
            />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
        </Form>
      )}
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </main>
  );
}
