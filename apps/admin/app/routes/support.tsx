import { SUPPORT_DEFAULT_MINUTES, SUPPORT_MAX_MINUTES } from "@tenantry/core";
import { data, Form, Link, redirect, useActionData, useLoaderData } from "react-router";
import { formError, requireOperator, verifyCsrf } from "../../server/page-auth";
import { can } from "../../server/roles";
import {
  approveSupport,
  endSupport,
  findSupportTenant,
  listSupport,
  type SupportSessionRow,
  startSupport,
} from "../../server/services/support";
import type { Route } from "./+types/support";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Support access · Tenantry operators" }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "tenants:read");
  const query = new URL(args.request.url).searchParams.get("tenant")?.trim() ?? "";
  const tenant = query ? await findSupportTenant({ ctx, input: { tenant: query } }) : null;
  return {
    ...(await lists(ctx, tenant?.id)),
    error: query && !tenant ? "No tenant has this slug or id." : null,
    query,
    tenant,
    ...who(ctx),
  };
}

async function lists(ctx: Parameters<typeof listSupport>[0]["ctx"], tenantId?: string) {
  const [pending, active] = await Promise.all([
    listSupport({ ctx, input: { tenantId, status: "pending_approval" } }),
    listSupport({ ctx, input: { tenantId, status: "active" } }),
  ]);
  return { pending, active };
}

function who(ctx: Awaited<ReturnType<typeof requireOperator>>) {
  return {
    csrf: ctx.csrfToken,
    me: ctx.operator.id,
    canStart: can(ctx.operator.role, "support:start"),
    canWrite: can(ctx.operator.role, "support:write"),
    // Handed over as data: components must not import server modules (the browser bundle).
    minutes: { max: SUPPORT_MAX_MINUTES, default: SUPPORT_DEFAULT_MINUTES },
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "support:start");
  const form = await args.request.formData();
  verifyCsrf(form, ctx);
  const field = (name: string) => String(form.get(name) ?? "").trim();
  try {
    switch (form.get("intent")) {
      case "start": {
        const session = await startSupport({
          ctx,
          input: {
            tenantId: field("tenantId"),
            reason: field("reason"),
            ticketId: field("ticketId") || undefined,
            mode: field("mode") === "write" ? "write" : "read",
            minutes: Number(field("minutes") || SUPPORT_DEFAULT_MINUTES),
          },
        });
        return redirect(`/support/${session.id}`);
      }
      case "approve":
        await approveSupport({
          ctx,
          input: { sessionId: field("sessionId"), reason: field("reason") },
        });
        return { error: null, done: "Approved: write access is active." };
      case "end":
        await endSupport({
          ctx,
          input: { sessionId: field("sessionId"), reason: field("reason") },
        });
        return { error: null, done: "Support access ended." };
      default:
        throw data("Unknown action.", { status: 400 });
    }
  } catch (err) {
    return formError(err);
  }
}

const time = (ms: number | null) => (ms ? `${new Date(ms).toISOString().slice(0, 16)}Z` : "—");

export default function Support() {
  const { csrf, me, canStart, canWrite, minutes, query, tenant, error, pending, active } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page">
      <h1>Support access</h1>
      <p className="muted">
        Time-boxed access to one tenant as one of its users (its first owner unless named),
        read-only unless a second platform admin approves write access. The tenant sees the start,
        the end and every request in its own audit log, and its owners are mailed.
      </p>
      <Form method="get" className="card">
        <label htmlFor="tenant">Tenant (slug or id)</label>
        <input id="tenant" name="tenant" defaultValue={query} required />{" "}
        <button type="submit">Open</button> {query ? <Link to="/support">All tenants</Link> : null}
      </Form>
      {error ? <p className="error">{error}</p> : null}
      {result?.error ? <p className="error">{result.error}</p> : null}
      {result && "done" in result ? <p>{result.done}</p> : null}

      {tenant && canStart ? (
        <Form method="post" className="card">
          <h2>
            Start support access to {tenant.name} ({tenant.slug})
          </h2>
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="start" />
          <input type="hidden" name="tenantId" value={tenant.id} />
          <label htmlFor="reason">Reason (the tenant sees it)</label>
          <textarea id="reason" name="reason" required minLength={3} maxLength={500} rows={2} />
          <label htmlFor="ticketId">Ticket id (optional)</label>
          <input id="ticketId" name="ticketId" maxLength={100} />
          <label htmlFor="minutes">Minutes (1–{minutes.max})</label>
          <input
            id="minutes"
            name="minutes"
            type="number"
            min={1}
            max={minutes.max}
            defaultValue={minutes.default}
            required
          />
          <label htmlFor="mode">Mode</label>
          <select id="mode" name="mode" defaultValue="read">
            <option value="read">read-only</option>
            {canWrite ? (
              <option value="write">write (needs a second admin's approval)</option>
            ) : null}
          </select>
          <p>
            <button type="submit">Start</button>
          </p>
        </Form>
      ) : null}

      <h2>Waiting for approval{tenant ? "" : " (all tenants)"}</h2>
      <Sessions
        rows={pending}
        empty="No write access waits for approval."
        actions={(s) => (
          <>
            {canWrite && s.operatorId !== me ? (
              <Decide csrf={csrf} session={s} intent="approve" label="Approve" />
            ) : null}
            <Decide csrf={csrf} session={s} intent="end" label="Cancel" danger />
          </>
        )}
      />

      <h2>Active{tenant ? "" : " (all tenants)"}</h2>
      <Sessions
        rows={active}
        empty="No support access is active."
        actions={(s) => (
          <>
            {s.operatorId === me ? <Link to={`/support/${s.id}`}>Get token</Link> : null}
            <Decide csrf={csrf} session={s} intent="end" label="End" danger />
          </>
        )}
      />
    </main>
  );
}

function Sessions({
  rows,
  empty,
  actions,
}: {
  rows: SupportSessionRow[];
  empty: string;
  actions: (s: SupportSessionRow) => React.ReactNode;
}) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Tenant</th>
          <th>Operator</th>
          <th>Mode</th>
          <th>Reason</th>
          <th>Requested</th>
          <th>Expires</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr key={s.id}>
            <td>
              <Link to={`/support?tenant=${s.tenantId}`}>{s.tenantSlug ?? s.tenantId}</Link>
            </td>
            <td>{s.operatorEmail}</td>
            <td>{s.mode}</td>
            <td>
              {s.reason}
              {s.ticketId ? <span className="muted"> ({s.ticketId})</span> : null}
            </td>
            <td>{time(s.requestedAt)}</td>
            <td>{time(s.expiresAt)}</td>
            <td>{actions(s)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Decide({
  csrf,
  session,
  intent,
  label,
  danger = false,
}: {
  csrf: string;
  session: SupportSessionRow;
  intent: "approve" | "end";
  label: string;
  danger?: boolean;
}) {
  return (
    <Form method="post">
      <input type="hidden" name="csrf" value={csrf} />
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name="sessionId" value={session.id} />
      <input name="reason" placeholder="reason" aria-label="reason" required minLength={3} />
      <button type="submit" className={danger ? "danger" : undefined}>
        {label}
      </button>
    </Form>
  );
}
