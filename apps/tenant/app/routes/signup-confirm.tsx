import { data, Form, useNavigation } from "react-router";
import { isApex } from "../../server/hosts";
import { tenantAppRequest } from "../../server/request";
import { confirmSignUpAction } from "../../server/sign-up";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/signup-confirm";

export function meta() {
  return [{ title: "Confirm your new organisation" }];
}

/**
 * The mailed link of a sign-up whose email already had an account (apex only). Opening it changes
 * nothing (mail scanners follow links); the button's POST creates the organisation.
 */
export function loader({ request, context }: Route.LoaderArgs) {
  if (!isApex(request, context.get(tenantAppRequest).env))
    throw data("This page is on the sign-up site.", { status: 404 });
  return { token: new URL(request.url).searchParams.get("token") ?? "" };
}

export const action = (args: Route.ActionArgs) => confirmSignUpAction(args);

export default function SignUpConfirm({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state !== "idle";
  return (
    <main className="page narrow">
      <h1>Confirm your new organisation</h1>
      <p>
        Your existing account asked to create an organisation. Confirm to create it; you will be its
        owner and signed in there.
      </p>
      <ProblemNotice problem={actionData?.problem} />
      {actionData?.signInAt && (
        <p>
          Your organisation exists: <a href={actionData.signInAt}>sign in to it</a>.
        </p>
      )}
      <Form method="post">
        <input type="hidden" name="token" value={loaderData.token} />
        <button type="submit" className="primary" disabled={busy || !loaderData.token}>
          Create the organisation
        </button>
      </Form>
    </main>
  );
}
