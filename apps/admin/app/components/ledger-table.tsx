import { Form, Link } from "react-router";
import type { LedgerEvent } from "../../server/services/billing";

const when = (ms: number | null) =>
  ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "—";

/** Stripe ledger rows; failed (dead-lettered) ones carry their reason and, for billing, a replay form. */
export function LedgerTable({
  caption,
  events,
  csrf,
  canReplay,
  showTenant,
}: {
  caption: string;
  events: LedgerEvent[];
  csrf: string;
  canReplay: boolean;
  showTenant?: boolean;
}) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Received (UTC)</th>
          <th scope="col">Event</th>
          {showTenant ? <th scope="col">Tenant</th> : null}
          <th scope="col">Source</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last error</th>
          {canReplay ? <th scope="col">Replay</th> : null}
        </tr>
      </thead>
      <tbody>
        {events.length === 0 ? (
          <tr>
            <td colSpan={8} className="muted">
              No events.
            </td>
          </tr>
        ) : null}
        {events.map((e) => (
          <tr key={e.id}>
            <td>{when(e.receivedAt)}</td>
            <td>
              <code>{e.id}</code>
              <br />
              <span className="muted">{e.type}</span>
            </td>
            {showTenant ? (
              <td>{e.tenantId ? <Link to={`/billing/${e.tenantId}`}>{e.tenantId}</Link> : "—"}</td>
            ) : null}
            <td>{e.source}</td>
            <td className={e.state === "failed" ? "error" : undefined}>
              {e.state === "failed"
                ? "failed (dead-lettered)"
                : e.error
                  ? `${e.state}, retrying`
                  : e.state}
            </td>
            <td>{e.attempts}</td>
            <td>{e.error ?? "—"}</td>
            {canReplay ? (
              <td>
                {e.state === "failed" ? (
                  <Form method="post">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="intent" value="replay" />
                    <input type="hidden" name="event_id" value={e.id} />
                    <label htmlFor={`reason-${e.id}`}>Reason</label>
                    <input id={`reason-${e.id}`} name="reason" required minLength={3} />{" "}
                    <button type="submit">Replay</button>
                  </Form>
                ) : null}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
