import { Form, Link, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/reset-password";

export function meta() {
  return [{ title: "Set a new password" }];
}

/** The mailed reset link: the token waits in the form until the new password is posted. */
export function loader({ request }: Route.LoaderArgs) {
  return { token: new URL(request.url).searchParams.get("token") ?? "" };
}

/** Every session of the user is revoked; keys they created are listed to be checked. */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const result = await apiFor(args).POST("/v1/auth/password-reset/confirm", {
    body: { token: String(form.get("token") ?? ""), password: String(form.get("password") ?? "") },
  });
  return result.data ? { apiKeys: result.data.api_keys } : { problem: shownProblem(result) };
}

export default function ResetPassword({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state !== "idle";
  const apiKeys = actionData && "apiKeys" in actionData ? actionData.apiKeys : undefined;
  if (apiKeys)
    return (
      <main className="page narrow">
        <h1>Password changed</h1>
        <div className="notice ok" role="status">
          <p>Your new password is set, and every session that used the old one is signed out.</p>
        </div>
        {apiKeys.length > 0 && (
          <>
            <p>
              Whoever had the old password could have created these API keys. Check them under API
              keys once signed in:
            </p>
            <ul>
              {apiKeys.map((k) => (
                <li key={k.id}>{k.name}</li>
              ))}
            </ul>
          </>
        )}
        <p>
          <Link to="/sign-in">Sign in</Link>
        </p>
      </main>
    );
  return (
    <main className="page narrow">
      <h1>Set a new password</h1>
      <ProblemNotice problem={actionData?.problem} />
      <Form method="post" className="stack">
        <input type="hidden" name="token" value={loaderData.token} />
        <label>
          New password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            aria-describedby="password-hint"
          />
        </label>
        <p id="password-hint" className="muted">
          At least 10 characters.
        </p>
        <button type="submit" className="primary" disabled={busy || !loaderData.token}>
          Set password
        </button>
      </Form>
      <p>
        <Link to="/forgot-password">Ask for a new link</Link>
      </p>
    </main>
  );
}
