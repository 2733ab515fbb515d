import type { components } from "@tenantry/client";
import { Form, Link, useLocation } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedOut } from "../../server/signed-in";
import { ProblemNotice } from "../components/problem";
import { useSignedIn } from "../signed-in";
import type { Route } from "./+types/audit-log";

type Entry = components["schemas"]["AuditEntry"];

export function meta() {
  return [{ title: "Audit log" }];
}

/** The filters as the page's GET form sends them (and its links carry them). */
const FILTERS = ["action", "actor_type", "actor_id", "from", "to"] as const;
const ACTOR_TYPES = ["user", "api_key", "support", "system", "scim_token"] as const;

/** A `YYYY-MM-DD` day (UTC) as the API's instant: `to` is exclusive, so it is the next day. */
function dayStart(day: string, plusDays = 0): string | undefined {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? undefined : new Date(t + plusDays * 86_400_000).toISOString();
}

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const params = new URL(args.request.url).searchParams;
  const filters = Object.fromEntries(
    FILTERS.map((f) => [f, params.get(f)?.trim() || undefined]),
  ) as Record<(typeof FILTERS)[number], string | undefined>;
  const actorType = ACTOR_TYPES.find((t) => t === filters.actor_type);
  const [log, members] = await Promise.all([
    api.GET("/v1/audit-log", {
      params: {
        query: {
          limit: 25,
          cursor: params.get("cursor") || undefined,
          action: filters.action,
          actor_type: actorType,
          actor_id: filters.actor_id,
          from: filters.from && dayStart(filters.from),
          to: filters.to && dayStart(filters.to, 1),
        },
      },
    }),
    // Names members instead of ids; the log reads without it.
    api.GET("/v1/members", { params: { query: { limit: 100 } } }),
  ]);
  if (log.response.status === 401) throw signedOut(args);
  if (log.response.status === 400 || log.response.status === 403) {
    return { filters, problem: shownProblem(log), page: null, emails: {} };
  }
  if (!log.data) throw apiFailure(log);
  const emails = Object.fromEntries((members.data?.data ?? []).map((m) => [m.user_id, m.email]));
  return { filters, problem: null, page: log.data, emails: emails as Record<string, string> };
}

/** This page's URL with `changes` applied to its filters (empty values dropped). */
function hrefWith(filters: Record<string, string | undefined>, changes: Record<string, string>) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...changes })) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `/audit-log?${s}` : "/audit-log";
}

function Actor({ entry, emails }: { entry: Entry; emails: Record<string, string> }) {
  if (entry.support) {
    return (
      <span className="badge support" data-testid="support-badge">
        Support access by {entry.support.operator.email} (
        {entry.support.mode === "write" ? "read and write" : "read only"})
      </span>
    );
  }
  if (entry.actor.type === "user") return <>{emails[entry.actor.id] ?? entry.actor.id}</>;
  if (entry.actor.type === "api_key") return <>API key {entry.actor.id}</>;
  if (entry.actor.type === "scim_token") return <>SCIM token {entry.actor.id}</>;
  return (
    <>
      {entry.actor.type} ({entry.actor.id})
    </>
  );
}

/** `field: before → after` for each field the entry's snapshots name. */
function Change({ entry }: { entry: Entry }) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const show = (v: unknown) =>
    v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v);
  return (
    <ul className="changes">
      {keys.map((k) => (
        <li key={k}>
          <span className="muted">{k}:</span>{" "}
          {entry.before && entry.after
            ? `${show(before[k])} → ${show(after[k])}`
            : show(after[k] ?? before[k])}
        </li>
      ))}
    </ul>
  );
}

export default function AuditLog({ loaderData }: Route.ComponentProps) {
  const { filters, problem, page, emails } = loaderData;
  const { me } = useSignedIn();
  const actions = [...new Set(page?.data.map((e) => e.action) ?? [])].sort();
  return (
    <div className="stack">
      <h1>Audit log</h1>
      <p className="muted">
        Every change in {me.tenant.name}, newest first. Entries made through an operator's support
        access are marked with the operator's name.
      </p>
      {/* A GET form: filtering is a plain link, so it works without JavaScript and can be shared. */}
      <Form method="get" className="row card filters" aria-label="Filter the audit log">
        <label>
          Action
          <input
            name="action"
            list="audit-actions"
            defaultValue={filters.action ?? ""}
            placeholder="member.update"
          />
        </label>
        <datalist id="audit-actions">
          {actions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          Actor type
          <select name="actor_type" defaultValue={filters.actor_type ?? ""}>
            <option value="">Any</option>
            <option value="user">Member</option>
            <option value="api_key">API key</option>
            <option value="support">Support access</option>
            <option value="system">System</option>
            <option value="scim_token">SCIM provisioning</option>
          </select>
        </label>
        <label>
          Actor id
          <input name="actor_id" defaultValue={filters.actor_id ?? ""} />
        </label>
        <label>
          From (UTC)
          <input type="date" name="from" defaultValue={filters.from ?? ""} />
        </label>
        <label>
          To (UTC, inclusive)
          <input type="date" name="to" defaultValue={filters.to ?? ""} />
        </label>
        <button type="submit" className="primary">
          Filter
        </button>
        <Link to="/audit-log">Clear</Link>
      </Form>
      <ProblemNotice problem={problem} />
      {page && page.data.length === 0 && <p>No entries match.</p>}
      {page && page.data.length > 0 && (
        <table data-testid="audit-entries">
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {page.data.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td>
                  <time dateTime={e.created_at}>{e.created_at.replace("T", " ").slice(0, 19)}</time>
                </td>
                <td>
                  <Link to={hrefWith(filters, { actor_type: e.actor.type, actor_id: e.actor.id })}>
                    <Actor entry={e} emails={emails} />
                  </Link>
                </td>
                <td>
                  <Link to={hrefWith(filters, { action: e.action })}>{e.action}</Link>
                  <div className="muted">
                    {e.target.type} {e.target.id}
                  </div>
                </td>
                <td>
                  <Change entry={e} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="row" aria-label="Pages">
        {new URLSearchParams(useLocation().search).get("cursor") && (
          <Link to={hrefWith(filters, {})}>Newest entries</Link>
        )}
        {page?.next_cursor && (
          <Link to={hrefWith(filters, { cursor: page.next_cursor })}>Older entries</Link>
        )}
      </nav>
    </div>
  );
}
