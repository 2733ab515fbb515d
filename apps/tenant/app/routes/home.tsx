import { Form, redirect } from "react-router";
import { apiFailure, apiFor, renewedOrSignedOut } from "../../server/api";
import { tenantAppRequest } from "../../server/request";
import { csrfToken, readSession } from "../../server/session";
import type { Route } from "./+types/home";

export function meta() {
  return [{ title: "Dashboard" }];
}

/** The signed-in user's dashboard: who they are in which tenant, from `GET /v1/me`. */
export async function loader(args: Route.LoaderArgs) {
  const { env } = args.context.get(tenantAppRequest);
  const session = readSession(args.request, env);
  if (!session) throw redirect("/sign-in");
  const result = await apiFor(args, session.accessToken).GET("/v1/me");
  if (result.response.status === 401) throw await renewedOrSignedOut(args, session);
  if (!result.data) throw apiFailure(result);
  return { me: result.data, csrf: await csrfToken(session) };
}

export default function Home({ loaderData }: Route.ComponentProps) {
  const { me, csrf } = loaderData;
  return (
    <main className="page">
      <h1>{me.tenant.name}</h1>
      <p>
        Signed in as <strong data-testid="user-email">{me.user?.email}</strong>
        {me.role && <span className="muted"> · {me.role}</span>}
      </p>
      <p className="muted">
        {me.tenant.slug} · plan {me.tenant.plan ?? "none"}
      </p>
      <Form method="post" action="/sign-out">
        <input type="hidden" name="csrf" value={csrf} />
        <button type="submit">Sign out</button>
      </Form>
    </main>
  );
}
