import { Form, Link, useLoaderData } from "react-router";
import { formError, requireOperator } from "../../server/page-auth";
import {
  listOperatorAudit,
  MAX_EXPORT_ROWS,
  OPERATOR_AUDIT_ACTIONS,
  operatorAuditFilters,
} from "../../server/services/operator-audit";
import type { Route } from "./+types/audit";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Operator audit log · Tenantry operators" }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "audit:read");
  const url = new URL(args.request.url);
  const filters = operatorAuditFilters(url.searchParams);
  const query = new URLSearchParams(filters as Record<string, string>).toString();
  const cursor = url.searchParams.get("cursor") ?? undefined;
  // Handed over as data: components must not import server modules (the browser bundle).
  const limits = { actions: OPERATOR_AUDIT_ACTIONS, maxExportRows: MAX_EXPORT_ROWS };
  try {
    const page = await listOperatorAudit({ ctx, input: { ...filters, cursor } });
    return { filters, query, limits, error: null, ...page };
  } catch (err) {
    const error = formError(err).data.error;
    return { filters, query, limits, error, data: [], nextCursor: null };
  }
}

const show = (v: unknown) => (v === null || v === undefined ? "∅" : JSON.stringify(v));

export default function Audit() {
  const { filters, query, limits, error, data, nextCursor } = useLoaderData<typeof loader>();
  const f = filters as Record<string, string | undefined>;
  return (
    <main className="page">
      <h1>Operator audit log</h1>
      <p className="muted">
        What operators (and scheduled jobs) did to tenants, newest first. Times are UTC.
      </p>
      <Form method="get" className="card">
        <label htmlFor="operator">Operator (email or id)</label>
        <input id="operator" name="operator" defaultValue={f.operator} />
        <label htmlFor="tenant">Tenant (slug or id)</label>
        <input id="tenant" name="tenant" defaultValue={f.tenant} />
        <label htmlFor="action">Action</label>
        <select id="action" name="action" defaultValue={f.action ?? ""}>
          <option value="">any</option>
          {limits.actions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <label htmlFor="from">From (UTC)</label>
        <input id="from" name="from" type="datetime-local" defaultValue={f.from} />
        <label htmlFor="to">Before (UTC)</label>
        <input id="to" name="to" type="datetime-local" defaultValue={f.to} />
        <p>
          <button type="submit">Filter</button> <Link to="/audit">Clear</Link> ·{" "}
          <a href={`/audit.csv${query ? `?${query}` : ""}`} download>
            Download CSV
          </a>{" "}
          <span className="muted">
            (at most {limits.maxExportRows.toLocaleString("en")} entries)
          </span>
        </p>
      </Form>
      {error ? <p className="error">{error}</p> : null}
      {data.length === 0 && !error ? <p className="muted">No entries match.</p> : null}
      {data.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Tenant</th>
              <th>Reason</th>
              <th>Changes</th>
              <th>Request / IP</th>
            </tr>
          </thead>
          <tbody>
            {data.map((e) => (
              <tr key={e.id}>
                <td>{e.createdAt.replace("T", " ").slice(0, 19)}</td>
                <td>{e.actor.email ?? `${e.actor.type}:${e.actor.id}`}</td>
                <td>
                  {e.action}
                  <div className="muted">
                    {e.target.type} {e.target.id}
                  </div>
                </td>
                <td>{e.tenant ? (e.tenant.slug ?? e.tenant.id) : "—"}</td>
                <td>{e.reason ?? "—"}</td>
                <td>
                  {e.changes.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    <ul>
                      {e.changes.map((c) => (
                        <li key={c.field}>
                          <code>{c.field}</code>: {show(c.before)} → {show(c.after)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  <code>{e.requestId ?? "—"}</code>
                  <div className="muted">{e.ip ?? ""}</div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {nextCursor ? (
        <p>
          <Link
            to={`/audit?${new URLSearchParams({ ...f, cursor: nextCursor } as Record<string, string>)}`}
          >
            Older entries →
          </Link>
        </p>
      ) : null}
    </main>
  );
}
