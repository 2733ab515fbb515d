import type { ReconcileRow } from "@tenantry/core";

const cell = (v: number | null) => (v === null ? "—" : v);

/** Meter vs ledger vs Stripe rows; a mismatch or dead-lettered usage is highlighted and named. */
export function ReconcileTable({ caption, rows }: { caption: string; rows: ReconcileRow[] }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Tenant</th>
          <th scope="col">Metric</th>
          <th scope="col">Period (UTC)</th>
          <th scope="col">Meter</th>
          <th scope="col">Ledger</th>
          <th scope="col">Billable</th>
          <th scope="col">Stripe</th>
          <th scope="col">Dead-lettered</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={9} className="muted">
              No usage yet.
            </td>
          </tr>
        ) : null}
        {rows.map((r) => (
          <tr
            key={`${r.tenant_id}:${r.metric}:${r.period_start}`}
            className={r.ok ? undefined : "mismatch"}
          >
            <td>{r.tenant_id}</td>
            <td>{r.metric}</td>
            <td>
              {r.period_start.slice(0, 10)} – {r.period_end.slice(0, 10)}
            </td>
            <td>{r.meter}</td>
            <td>{r.ledger}</td>
            <td>{cell(r.ledger_billable)}</td>
            <td>{cell(r.stripe)}</td>
            <td>{r.dead_rows > 0 ? `${r.dead_rows} rows, ${r.dead_billable} units` : "—"}</td>
            <td>
              <strong>
                {r.status === "ok" ? "ok" : r.status === "mismatch" ? "MISMATCH" : "DEAD"}
              </strong>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
