import { ProblemError } from "@tenantry/core";
import { type PageOperatorContext, verifyCsrf } from "./page-auth";

export type FormResult<T> = { ok: T; error?: undefined } | { ok?: undefined; error: string };

/**
 * A page form's mutation: the session's CSRF token and a stated reason are required; a verb's
 * problem (409, 404, 400) comes back as the form's error instead of an error page.
 */
export async function formMutation<T>(
  form: FormData,
  ctx: PageOperatorContext,
  run: (reason: string) => Promise<T>,
): Promise<FormResult<T>> {
  verifyCsrf(form, ctx);
  const reason = String(form.get("reason") ?? "").trim();
  if (reason.length < 3) return { error: "State a reason (at least 3 characters)." };
  try {
    return { ok: await run(reason) };
  } catch (err) {
    if (err instanceof ProblemError && err.status < 500) return { error: err.message };
    throw err;
  }
}
