import { useEffect } from "react";
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
/**
 * "Continue with SSO" is home-realm discovery by email: a verified domain with an enabled
 * connection sends the browser to its provider; any other email is told to use its password.
 * The provider's URL comes back as data, not a redirect: the CSP's `form-action 'self'` stops a
 * form post that redirects to another origin. Scripts follow it; without them it is a link.
 */
async function continueWithSso(args: Route.ActionArgs, email: string) {
  const api = apiFor(args);
  const found = await api.POST("/v1/auth/sso/discover", { body: { email } });
  if (!found.data) return { email, problem: shownProblem(found) };
  if (!found.data.sso)
    return {
      email,
      noSso: "Single sign-on is not set up for this email here: sign in with your password.",
    };
  const started = await api.POST("/v1/auth/sso/start", { body: { email } });
  if (!started.data) return { email, problem: shownProblem(started) };
  return { email, to: started.data.authorization_url };
}

/**
 * Email and password go to the API's login; its tokens stay in the HttpOnly session cookie. A
 * member with MFA gets a challenge instead: the page then asks for a code (`intent=mfa`), with
 * the challenge in a hidden field (it only proves the password, for 5 minutes).
 */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const email = String(form.get("email") ?? "");
  if (form.get("intent") === "sso") return continueWithSso(args, email);
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
  if (!result.data) return { email, problem: shownProblem(result) };
  if ("mfa_required" in result.data) return { email, challenge: result.data.challenge };
  return signedInAs(result.data);
}

export default function SignIn() {
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const to = failed && "to" in failed ? failed.to : null;
  const noSso = failed && "noSso" in failed ? failed.noSso : null;
  const challenge = failed && "challenge" in failed ? failed.challenge : null;
  useEffect(() => {
    if (to) window.location.assign(to);
  }, [to]);
  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <ProblemNotice problem={failed && "problem" in failed ? failed.problem : null} />
      {to && (
        <p className="notice ok" role="status">
          Continuing to your identity provider… <a href={to}>Continue</a>
        </p>
      )}
      {noSso && (
        <p className="notice warn" role="status">
          {noSso}
        </p>
      )}
      {challenge ? (
        <Form method="post" className="stack">
          <input type="hidden" name="intent" value="mfa" />
          <input type="hidden" name="challenge" value={challenge} />
          <input type="hidden" name="email" value={failed?.email} />
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
          {/* Needs only the email: the password's `required` does not apply to this button. */}
          <button type="submit" name="intent" value="sso" formNoValidate disabled={busy}>
            Continue with SSO
          </button>
        </Form>
      )}
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </main>
  );
}
