import { ProblemError } from "@tenantry/core";
import { Form, Link } from "react-router";
import { requireOperator } from "../../server/page-auth";
import { listTenants, SEARCH_FIELDS } from "../../server/services/tenants";
import type { Route } from "./+types/tenants";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Tenants · Tenantry operators" }];
}

const FILTERS = {
  plan: ["free", "pro", "business", "enterprise"],
  status: ["provisioning", "active", "suspended", "reclaiming"],
  access: ["full", "grace", "read_only", "free_limits"],
} as const;

export async function loader({ request, context }: Route.LoaderArgs) {
  const ctx = await requireOperator({ request, context }, "tenants:read");
  const params = new URL(request.url).searchParams;
  // Empty form fields mean "any".
  const input = Object.fromEntries([...params].filter(([, v]) => v.trim() !== ""));
  try {
    return { input, page: await listTenants({ ctx, input }), error: null };
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    return { input, page: null, error: err.message };
  }
}

export default function Tenants({ loaderData }: Route.ComponentProps) {
  const { input, page, error } = loaderData;
  const nextHref = page?.next_cursor
    ? `?${new URLSearchParams({ ...input, cursor: page.next_cursor })}`
    : null;
  return (
    <main className="page">
      <h1>Tenants</h1>
      <Form method="get" className="card">
        <label htmlFor="q">Search</label>
        <input
          id="q"
          name="q"
          defaultValue={input.q ?? ""}
          placeholder="name, slug or owner email prefix; cus_… exactly"
          size={40}
        />{" "}
        <select name="by" defaultValue={input.by ?? ""} aria-label="Search field">
          <option value="">guess the field</option>
          {SEARCH_FIELDS.map((f) => (
            <option key={f} value={f}>
              {f.replace("_", " ")}
            </option>
          ))}
        </select>
        {(Object.keys(FILTERS) as (keyof typeof FILTERS)[]).map((name) => (
          <span key={name}>
            {" "}
            <select name={name} defaultValue={input[name] ?? ""} aria-label={name}>
              <option value="">any {name}</option>
              {FILTERS[name].map((v) => (
                <option key={v} value={v}>
                  {v.replace("_", " ")}
                </option>
              ))}
            </select>
          </span>
        ))}{" "}
        <button type="submit">Search</button>
        <p className="muted">
          Prefix search; results come in the order of the searched field (newest first without a
          search). Access is billing access as the billing sync last recorded it.
        </p>
      </Form>
      {error ? <p className="error">{error}</p> : null}
      {page ? (
        <>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Slug</th>
                <th>Owner</th>
                <th>Status</th>
                <th>Plan</th>
                <th>Access</th>
                <th>Stripe customer</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={`/tenants/${t.id}`}>{t.name}</Link>
                  </td>
                  <td>{t.slug}</td>
                  <td>{t.owner_email}</td>
                  <td className={t.status === "suspended" ? "error" : undefined}>{t.status}</td>
                  <td>{t.plan ?? "—"}</td>
                  <td>{t.access.replace("_", " ")}</td>
                  <td>{t.stripe_customer_id ?? "—"}</td>
                  <td>{t.created_at.slice(0, 10)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.length === 0 ? <p className="muted">No tenants match.</p> : null}
          {nextHref ? (
            <p>
              <Link to={nextHref}>Next page →</Link>
            </p>
          ) : null}
        </>
      ) : null}
    </main>
  );
}
