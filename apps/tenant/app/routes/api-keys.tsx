import type { PERMISSIONS } from "@tenantry/core/permissions";
import { data, Form, redirect, useActionData } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { CopyButton } from "../components/copy-button";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import { useCan, useSignedIn } from "../signed-in";
import type { Route } from "./+types/api-keys";

export function meta() {
  return [{ title: "API keys" }];
}

/** The tenant's keys with api_keys:read; anyone else sees the keys they created themselves. */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const me = await signedInCaller(args);
  if (me.permissions.includes("api_keys:read")) {
    const all = await api.GET("/v1/api-keys", { params: { query: { limit: 100 } } });
    if (!all.data) throw apiFailure(all);
    return { keys: all.data.data, own: false };
  }
  const own = await api.GET("/v1/me/api-keys");
  if (!own.data) throw apiFailure(own);
  return { keys: own.data.data, own: true };
}

type Permission = (typeof PERMISSIONS)[number];

/**
 * `create` answers with the new key itself (not a redirect): this response is the only time it
 * is shown. `revoke` uses the caller's own-key route when they cannot manage every key.
 */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  if (form.get("intent") === "create") {
    const name = String(form.get("name") ?? "");
    const permissions = form.getAll("permissions").map(String) as Permission[];
    const r = await api.POST("/v1/api-keys", { body: { name, permissions } });
    if (r.response.status === 401) throw signedOut(args);
    if (!r.data)
      return data({ problem: shownProblem(r), created: null }, { status: r.response.status });
    return { problem: null, created: { name: r.data.name, secret: r.data.key } };
  }
  const id = String(form.get("id") ?? "");
  const r =
    form.get("scope") === "own"
      ? await api.DELETE("/v1/me/api-keys/{id}", { params: { path: { id } } })
      : await api.DELETE("/v1/api-keys/{id}", { params: { path: { id } } });
  if (r.response.status === 401) throw signedOut(args);
  if (r.error)
    return data({ problem: shownProblem(r), created: null }, { status: r.response.status });
  return redirect("/api-keys");
}

const day = (iso: string | null) =>
  iso ? <time dateTime={iso}>{iso.slice(0, 16).replace("T", " ")}</time> : "never";

export default function ApiKeys({ loaderData }: Route.ComponentProps) {
  const { keys, own } = loaderData;
  const { me } = useSignedIn();
  const manages = useCan("api_keys:manage");
  const result = useActionData<typeof action>();
  return (
    <div className="stack">
      <h1>API keys</h1>
      <ProblemNotice problem={result?.problem} />
      {result?.created && <NewKey {...result.created} />}
      {own && (
        <p className="muted">
          Your role ({me.role}) cannot see or manage the workspace's API keys; these are the keys
          you created that still work.
        </p>
      )}
      {keys.length === 0 ? (
        <p className="muted">No API keys yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Permissions</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>
                  {k.name} <code className="muted">{k.start}…</code>
                </td>
                <td>{k.permissions.join(", ")}</td>
                <td>{day(k.created_at)}</td>
                <td>{day(k.last_used_at)}</td>
                <td>
                  {k.revoked_at ? (
                    <span className="badge">revoked</span>
                  ) : manages || own ? (
                    <Form method="post">
                      <CsrfField />
                      <input type="hidden" name="intent" value="revoke" />
                      <input type="hidden" name="id" value={k.id} />
                      {own && <input type="hidden" name="scope" value="own" />}
                      <button type="submit" className="danger" aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    </Form>
                  ) : (
                    <span className="badge">active</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section className="card stack" aria-labelledby="create">
        <h2 id="create">Create an API key</h2>
        {manages ? (
          // A new, empty form once a key is created.
          <Form method="post" className="stack" key={result?.created?.secret ?? "create"}>
            <CsrfField />
            <input type="hidden" name="intent" value="create" />
            <label>
              Name
              <input name="name" required maxLength={100} />
            </label>
            <fieldset>
              <legend>Permissions (only those your role holds)</legend>
              {me.permissions.map((p) => (
                <label key={p} className="check">
                  <input type="checkbox" name="permissions" value={p} /> {p}
                </label>
              ))}
            </fieldset>
            <button type="submit" className="primary">
              Create key
            </button>
          </Form>
        ) : (
          <p className="notice warn">Your role cannot create API keys.</p>
        )}
      </section>
    </div>
  );
}

/** The new key, shown once: selectable text, and a Copy button once scripts run. */
function NewKey({ name, secret }: { name: string; secret: string }) {
  return (
    <section className="notice ok stack" aria-labelledby="new-key">
      <h2 id="new-key">Key “{name}” created</h2>
      <p>Copy it now: it is shown only once.</p>
      <div className="row">
        <code data-testid="new-key" className="secret">
          {secret}
        </code>
        <CopyButton value={secret} />
      </div>
    </section>
  );
}
