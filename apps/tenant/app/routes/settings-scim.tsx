import { data, Form, Link, redirect, useActionData, useNavigation } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { featureGates } from "../../server/plan-gate";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { PlanGate } from "../components/plan-gate";
import { ProblemNotice } from "../components/problem";
import { ShownOnce } from "../components/shown-once";
import type { Route } from "./+types/settings-scim";

export function meta() {
  return [{ title: "SCIM provisioning" }];
}

/** Owners only (the API's rule: provisioning can add and remove anyone below owner). */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const me = await signedInCaller(args);
  // The tenant's own host: the app and the API (and so /scim/v2) share it.
  const base = `${new URL(args.request.url).origin}/scim/v2`;
  if (me.role !== "owner") return { role: me.role, gate: null, tokens: [], base };
  const gated = await featureGates(api, ["sso"]);
  if ("failed" in gated) throw apiFailure(gated.failed);
  const gate = gated.gates.sso;
  if (!gate.included) return { role: me.role, gate, tokens: [], base };
  const r = await api.GET("/v1/scim-tokens");
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  return { role: me.role, gate, tokens: r.data.data, base };
}

/** `create` answers with the token itself (not a redirect): the only time it is shown. */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  if (form.get("intent") === "create") {
    const r = await api.POST("/v1/scim-tokens", {
      body: { name: String(form.get("name") ?? "") },
    });
    if (r.response.status === 401) throw signedOut(args);
    if (!r.data)
      return data({ problem: shownProblem(r), created: null }, { status: r.response.status });
    return { problem: null, created: { name: r.data.name, token: r.data.token } };
  }
  const id = String(form.get("id") ?? "");
  const r = await api.DELETE("/v1/scim-tokens/{id}", { params: { path: { id } } });
  if (r.response.status === 401) throw signedOut(args);
  if (r.error)
    return data({ problem: shownProblem(r), created: null }, { status: r.response.status });
  return redirect("/settings/scim");
}

const day = (iso: string | null) =>
  iso ? <time dateTime={iso}>{iso.slice(0, 16).replace("T", " ")}</time> : "—";

export default function ScimSettings({ loaderData }: Route.ComponentProps) {
  const { role, gate, tokens, base } = loaderData;
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  return (
    <div className="stack settings">
      <h1>SCIM provisioning</h1>
      <p>
        Your identity provider creates, updates and deactivates members here through SCIM 2.0, with
        a token from this page. Groups named like a role (admin, billing, member, viewer) give that
        role. <Link to="/settings">Back to settings</Link>
      </p>
      <dl className="sso-facts">
        <dt>SCIM base URL</dt>
        <dd>
          <code data-testid="scim-base">{base}</code>
        </dd>
      </dl>
      {role !== "owner" && (
        <p className="notice warn" data-testid="read-only-reason">
          Only owners can manage SCIM tokens; your role is {role}.
        </p>
      )}
      {gate && (
        <PlanGate gate={gate} what="SCIM provisioning">
          <ProblemNotice problem={result?.problem} />
          {result?.created && (
            <ShownOnce
              title={`Token “${result.created.name}” created`}
              secret={result.created.token}
              testId="new-scim-token"
            >
              <p>
                Paste it into your identity provider as the bearer token, with the base URL{" "}
                <code>{base}</code>.
              </p>
            </ShownOnce>
          )}
          {tokens.length === 0 ? (
            <p className="muted">No SCIM tokens yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((t) => (
                  <tr key={t.id}>
                    <td>
                      {t.name} <code className="muted">{t.start}…</code>
                    </td>
                    <td>{day(t.created_at)}</td>
                    <td>
                      {t.revoked_at ? (
                        <span className="badge">revoked</span>
                      ) : (
                        <Form method="post">
                          <CsrfField />
                          <input type="hidden" name="intent" value="revoke" />
                          <input type="hidden" name="id" value={t.id} />
                          <button
                            type="submit"
                            className="danger"
                            disabled={busy}
                            aria-label={`Revoke ${t.name}`}
                          >
                            Revoke
                          </button>
                        </Form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <section className="card stack" aria-labelledby="new-token">
            <h2 id="new-token">Create a SCIM token</h2>
            {/* A new, empty form once a token is created. */}
            <Form method="post" className="stack" key={result?.created?.token ?? "create"}>
              <CsrfField />
              <input type="hidden" name="intent" value="create" />
              <label>
                Name
                <input name="name" required maxLength={100} placeholder="Okta provisioning" />
              </label>
              <button type="submit" className="primary" disabled={busy}>
                Create token
              </button>
            </Form>
          </section>
        </PlanGate>
      )}
    </div>
  );
}
