import { problemMessage } from "@tenantry/client";
import { Form, redirect, useActionData, useNavigation } from "react-router";
import { apiFor } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { readSession, sessionCookie } from "../../server/session";
import type { Route } from "./+types/sign-in";

export function meta() {
  return [{ title: "Sign in" }];
}

export function loader({ request, context }: Route.LoaderArgs) {
  if (readSession(request, context.get(tenantAppRequest).env)) throw redirect("/");
  return null;
}

/** Email and password go to the API's login; its tokens stay in the HttpOnly session cookie. */
export async function action(args: Route.ActionArgs) {
  const form = await args.request.formData();
  const email = String(form.get("email") ?? "");
  const password = String(form.get("password") ?? "");
  const result = await apiFor(args).POST("/v1/auth/login", { body: { email, password } });
  if (!result.data) return { email, error: problemMessage(result) };
  const session = {
    accessToken: result.data.access_token,
    refreshToken: result.data.refresh_token,
  };
  const { env } = args.context.get(tenantAppRequest);
  return redirect("/", { headers: { "set-cookie": sessionCookie(env, session) } });
}

export default function SignIn() {
  const failed = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <main className="page">
      <h1>Sign in</h1>
      {failed && (
        <p className="error" role="alert">
          {failed.error}
        </p>
      )}
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
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </Form>
    </main>
  );
}
