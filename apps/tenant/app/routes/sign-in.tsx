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

/** Email and password go to the API's login; its tokens stay in the HttpOnly session cookie. */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const email = String(form.get("email") ?? "");
  const password = String(form.get("password") ?? "");
  const result = await apiFor(args).POST("/v1/auth/login", { body: { email, password } });
  if (!result.data) return { email, problem: shownProblem(result) };
  const { env } = args.context.get(tenantAppRequest);
  return redirect(nextPath(args.request), {
    headers: { "set-cookie": sessionCookie(env, newSession(result.data)) },
  });
}

export default function SignIn() {
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <main className="page narrow">
      <h1>Sign in</h1>
      <ProblemNotice problem={failed?.problem} />
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
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </main>
  );
}
