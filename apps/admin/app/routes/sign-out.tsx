import { redirect } from "react-router";
import { currentOperator, sessionCookie, verifyCsrf } from "../../server/page-auth";
import { signOut } from "../../server/services/sign-in";
import type { Route } from "./+types/sign-out";

/** Sign-out is a CSRF-checked POST (the nav's button); it revokes the session row. */
export async function action(args: Route.ActionArgs) {
  const ctx = await currentOperator(args);
  if (!ctx) return redirect("/sign-in");
  verifyCsrf(await args.request.formData(), ctx);
  // Behind Access the session is Access's: its logout ends it.
  if (ctx.operator.via.type === "access") return redirect("/cdn-cgi/access/logout");
  await signOut({ ctx });
  return redirect("/sign-in", { headers: { "set-cookie": sessionCookie(ctx.env, null) } });
}

export function loader() {
  return redirect("/");
}
