import { Form, Link, useNavigation } from "react-router";
import { apiFor, shownProblem } from "../../server/api";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/verify-email";

export function meta() {
  return [{ title: "Verify your email address" }];
}

/** Opening the mailed link changes nothing (mail scanners follow links); the button verifies. */
export function loader({ request }: Route.LoaderArgs) {
  return { token: new URL(request.url).searchParams.get("token") ?? "" };
}

export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const result = await apiFor(args).POST("/v1/auth/verify-email", {
    body: { token: String(form.get("token") ?? "") },
  });
  return result.response.ok ? { verified: true } : { problem: shownProblem(result) };
}

export default function VerifyEmail({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state !== "idle";
  if (actionData && "verified" in actionData)
    return (
      <main className="page narrow">
        <h1>Email address verified</h1>
        <div className="notice ok" role="status">
          <p>Thank you: your address is verified, and you can invite teammates.</p>
        </div>
        <p>
          <Link to="/">Go to the dashboard</Link>
        </p>
      </main>
    );
  return (
    <main className="page narrow">
      <h1>Verify your email address</h1>
      <ProblemNotice problem={actionData?.problem} />
      <Form method="post">
        <input type="hidden" name="token" value={loaderData.token} />
        <button type="submit" className="primary" disabled={busy || !loaderData.token}>
          Verify my address
        </button>
      </Form>
    </main>
  );
}
