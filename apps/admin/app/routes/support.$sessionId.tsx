import { data, Form, Link, useActionData, useLoaderData } from "react-router";
import { formError, requireOperator, verifyCsrf } from "../../server/page-auth";
import { endSupport, getSupport, mintSupport } from "../../server/services/support";
import type { Route } from "./+types/support.$sessionId";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Support session · Tenantry operators" }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "tenants:read");
  const session = await getSupport({ ctx, input: { sessionId: args.params.sessionId } });
  if (!session) throw data("The support session does not exist.", { status: 404 });
  return {
    csrf: ctx.csrfToken,
    mine: session.operatorId === ctx.operator.id,
    // Decided here, not while rendering: server and browser clocks differ.
    live: session.status === "active" && (session.expiresAt ?? 0) > Date.now(),
    session,
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "support:start");
  const form = await args.request.formData();
  verifyCsrf(form, ctx);
  const sessionId = args.params.sessionId;
  try {
    if (form.get("intent") === "end") {
      const reason = String(form.get("reason") ?? "");
      await endSupport({ ctx, input: { sessionId, reason } });
      return { error: null, minted: null };
    }
    return { error: null, minted: await mintSupport({ ctx, input: { sessionId } }) };
  } catch (err) {
    return formError(err);
  }
}

const time = (ms: number | null) => (ms ? new Date(ms).toISOString() : "—");

export default function SupportSession() {
  const { csrf, mine, live, session: s } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const minted = result && "minted" in result ? result.minted : null;
  return (
    <main className="page">
      <p>
        <Link to={`/support?tenant=${s.tenantId}`}>
          ← Support access to {s.tenantSlug ?? s.tenantId}
        </Link>
      </p>
      <h1>Support session {s.id}</h1>
      <table>
        <tbody>
          <tr>
            <th>Status</th>
            <td>{live || s.status !== "active" ? s.status : "expired"}</td>
          </tr>
          <tr>
            <th>Mode</th>
            <td>{s.mode === "read" ? "read-only" : "write"}</td>
          </tr>
          <tr>
            <th>Operator</th>
            <td>{s.operatorEmail}</td>
          </tr>
          <tr>
            <th>Acting as user</th>
            <td>{s.userId}</td>
          </tr>
          <tr>
            <th>Reason</th>
            <td>
              {s.reason}
              {s.ticketId ? <span className="muted"> (ticket {s.ticketId})</span> : null}
            </td>
          </tr>
          <tr>
            <th>Approved by</th>
            <td>{s.approvedBy ?? "—"}</td>
          </tr>
          <tr>
            <th>Started / expires</th>
            <td>
              {time(s.startedAt)} / {time(s.expiresAt)}
            </td>
          </tr>
          <tr>
            <th>Ended</th>
            <td>
              {time(s.endedAt)}
              {s.endedBy ? ` by ${s.endedBy}` : ""}
            </td>
          </tr>
        </tbody>
      </table>
      {result?.error ? <p className="error">{result.error}</p> : null}

      {minted ? (
        <div className="card">
          <p>
            Copy the token now; it is not shown again. It works only on{" "}
            <code>{minted.tenantHost}</code>, until {time(minted.expiresAt)} (at most 15 minutes;
            get another one while the session lasts). Every request lands in the tenant's audit log.
          </p>
          <pre>{minted.token}</pre>
          <p>For example:</p>
          <pre>{`curl -H "Authorization: Bearer ${minted.token}" ${minted.tenantUrl}/v1/me`}</pre>
        </div>
      ) : null}

      {live && mine ? (
        <Form method="post" className="card">
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="token" />
          <button type="submit">Get token</button>
        </Form>
      ) : null}
      {s.status !== "ended" ? (
        <Form method="post" className="card">
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="end" />
          <label htmlFor="reason">Reason for ending</label>
          <input id="reason" name="reason" required minLength={3} />{" "}
          <button type="submit" className="danger">
            {s.status === "active" ? "End support access" : "Cancel request"}
          </button>
        </Form>
      ) : null}
    </main>
  );
}
