import { totpUri } from "@tenantry/core/totp";
import { data, Form, redirect, useActionData, useLoaderData } from "react-router";
import { formError, pageRequestContext, verifySameOrigin } from "../../server/page-auth";
import { completeSetup, MIN_PASSWORD_LENGTH, pendingSetup } from "../../server/services/sign-in";
import type { Route } from "./+types/setup";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Set up your operator account · Tenantry" }];
}

/** A one-time setup link (invitation or TOTP reset): the secret to enrol is shown here only. */
export async function loader(args: Route.LoaderArgs) {
  const op = await pendingSetup(pageRequestContext(args), args.params.token);
  if (!op?.totpSecret) throw data("This setup link has been used or has expired.", { status: 404 });
  return {
    email: op.email,
    name: op.name,
    secret: op.totpSecret,
    uri: totpUri(op.totpSecret, op.email, "Tenantry admin"),
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = pageRequestContext(args);
  verifySameOrigin(args.request, ctx);
  const form = await args.request.formData();
  try {
    await completeSetup({
      ctx,
      input: {
        token: args.params.token,
        password: String(form.get("password") ?? ""),
        code: String(form.get("code") ?? "").replace(/\s/g, ""),
      },
    });
  } catch (err) {
    return formError(err);
  }
  return redirect("/sign-in");
}

export default function Setup() {
  const op = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page narrow">
      <h1>Welcome, {op.name}</h1>
      <p>
        Set a password for <strong>{op.email}</strong> and enrol an authenticator app: add this
        secret (or the otpauth URI) to it, then type the code it shows.
      </p>
      <div className="card">
        <p>
          Secret: <code>{op.secret}</code>
        </p>
        <p className="muted">
          <code>{op.uri}</code>
        </p>
      </div>
      <Form method="post" className="card">
        <label htmlFor="password">New password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          required
        />
        <label htmlFor="code">Authenticator code</label>
        <input id="code" name="code" inputMode="numeric" autoComplete="one-time-code" required />
        {result?.error ? <p className="error">{result.error}</p> : null}
        <p>
          <button type="submit">Finish setup</button>
        </p>
      </Form>
    </main>
  );
}
