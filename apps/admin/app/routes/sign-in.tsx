import { Form, redirect, useActionData, useSearchParams } from "react-router";
import {
  currentOperator,
  formError,
  pageRequestContext,
  safeNext,
  sessionCookie,
  verifySameOrigin,
} from "../../server/page-auth";
import { signIn } from "../../server/services/sign-in";
import type { Route } from "./+types/sign-in";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Sign in · Tenantry operators" }];
}

/** Already signed in (or behind Access, which is the sign-in): straight on. */
export async function loader(args: Route.LoaderArgs) {
  if (await currentOperator(args)) {
    throw redirect(safeNext(new URL(args.request.url).searchParams.get("next")));
  }
  return null;
}

export async function action(args: Route.ActionArgs) {
  const ctx = pageRequestContext(args);
  verifySameOrigin(args.request, ctx);
  const form = await args.request.formData();
  try {
    const session = await signIn({
      ctx,
      input: {
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
        code: String(form.get("code") ?? "").replace(/\s/g, ""),
      },
    });
    return redirect(safeNext(String(form.get("next") ?? "")), {
      headers: { "set-cookie": sessionCookie(ctx.env, session.secret) },
    });
  } catch (err) {
    return formError(err);
  }
}

export default function SignIn() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  return (
    <main className="page narrow">
      <h1>Operator sign-in</h1>
      <Form method="post" className="card">
        <input type="hidden" name="next" value={params.get("next") ?? "/"} />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <label htmlFor="code">Authenticator code</label>
        <input
          id="code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]{6,7}"
          required
        />
        {result?.error ? <p className="error">{result.error}</p> : null}
        <p>
          <button type="submit">Sign in</button>
        </p>
      </Form>
    </main>
  );
}
