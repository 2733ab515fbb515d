import type { getTenantDetail } from "../../server/services/tenant-detail";

type Detail = Awaited<ReturnType<typeof getTenantDetail>>;

import { text } from "./format";

/** Usage per metric per UTC day (a table until a chart library is chosen) and the meter's period. */
export function UsageSection({ usage }: { usage: Detail["usage"] }) {
  const days = usage.ledger[0]?.days.map((d) => d.day) ?? [];
  return (
    <section className="card">
      <h2>Usage</h2>
      <p className="muted">
        Per UTC day from the usage ledger (last {usage.days} days; the meter flushes about once a
        minute).
      </p>
      <table>
        <thead>
          <tr>
            <th>Day</th>
            {usage.ledger.map((s) => (
              <th key={s.metric}>{s.metric}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((day, i) => (
            <tr key={day}>
              <td>{day}</td>
              {usage.ledger.map((s) => (
                <td key={s.metric}>{s.days[i]?.used ?? 0}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Current period (the meter)</h3>
      {usage.meter_period ? (
        <table>
          <thead>
            <tr>
              <th>Metric</th>
              <th>Used</th>
              <th>Period</th>
            </tr>
          </thead>
          <tbody>
            {usage.meter_period.map((m) => (
              <tr key={m.metric}>
                <td>{m.metric}</td>
                <td>{m.used}</td>
                <td>
                  {text(m.period_start)} → {text(m.period_end)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">The meter did not answer.</p>
      )}
    </section>
  );
}
