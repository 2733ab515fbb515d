import { Form, Link, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/forgot-password";

export function meta() {
  return [{ title: "Forgot password" }];
}

/** The API answers 202 for any address: the page, like it, never tells whether one has an account. */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const email = String(form.get("email") ?? "").trim();
  const result = await apiFor(args).POST("/v1/auth/password-reset", { body: { email } });
  return result.response.ok ? { sent: true, email } : { email, problem: shownProblem(result) };
}

export default function ForgotPassword({ actionData }: Route.ComponentProps) {
  const busy = useNavigation().state !== "idle";
  return (
    <main className="page narrow">
      <h1>Forgot password</h1>
      {actionData && "sent" in actionData ? (
        <div className="notice ok" role="status">
          <p>
            If <strong>{actionData.email}</strong> belongs to a member of this organisation, a link
            to set a new password is on its way. It works for an hour.
          </p>
        </div>
      ) : (
        <>
          <p>We will mail you a link to set a new password.</p>
          <ProblemNotice problem={actionData?.problem} />
          <Form method="post" className="stack">
            <label>
              Email
              <input
                name="email"
                type="email"
                autoComplete="username"
                required
                defaultValue={actionData?.email}
              />
            </label>
            <button type="submit" className="primary" disabled={busy}>
              Mail me a link
            </button>
          </Form>
        </>
      )}
      <p>
        <Link to="/sign-in">Back to sign-in</Link>
      </p>
    </main>
  );
}
