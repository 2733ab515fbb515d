import { FEATURES, LIMITS } from "@tenantry/plans";
import { Form } from "react-router";
import type { getTenantDetail } from "../../server/services/tenant-detail";

type Detail = Awaited<ReturnType<typeof getTenantDetail>>;

import { ReasonField } from "./fields";
import { text } from "./format";

/** Entitlements in force, the overrides behind them, and the forms that add or expire one. */
export function EntitlementsSection({
  entitlements,
  overrides,
  csrf,
  may,
}: {
  entitlements: Detail["entitlements"];
  overrides: Detail["overrides"];
  csrf: string;
  may: boolean;
}) {
  return (
    <section className="card">
      <h2>Entitlements</h2>
      <table>
        <thead>
          <tr>
            <th>Limit</th>
            <th>Value</th>
            <th>Hard</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(entitlements.limits).map(([k, l]) => (
            <tr key={k}>
              <td>{k}</td>
              <td>{l.value ?? "unlimited"}</td>
              <td>{l.hard ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Features:{" "}
        {Object.entries(entitlements.features)
          .map(([k, on]) => `${k} ${on ? "✓" : "✗"}`)
          .join(" · ")}
      </p>
      <p>
        Request budgets (per second / per minute):{" "}
        {Object.entries(entitlements.rateLimits)
          .map(([k, r]) => `${k} ${r.perSecond}/${r.perMinute}`)
          .join(" · ")}
      </p>
      <p>
        Flags:{" "}
        {Object.entries(entitlements.flags)
          .map(([k, on]) => `${k} ${on ? "on" : "off"}`)
          .join(" · ") || "none defined"}
      </p>

      <h3>Overrides</h3>
      <table>
        <thead>
          <tr>
            <th>Override</th>
            <th>Reason</th>
            <th>Expires</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {overrides.map((o) => (
            <tr key={o.id}>
              <td>
                {o.override
                  ? `${o.override.type} ${o.override.key} = ${JSON.stringify(o.override.value)}`
                  : `unreadable: ${o.raw}`}
              </td>
              <td>{o.override?.reason ?? "—"}</td>
              <td>{text(o.expires_at)}</td>
              <td>{o.active ? "in force" : "expired"}</td>
              <td>
                {o.active && may ? (
                  <Form method="post">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="intent" value="expire" />
                    <input type="hidden" name="override_id" value={o.id} />
                    <input name="reason" required minLength={3} placeholder="reason" />{" "}
                    <button type="submit" className="danger">
                      Expire
                    </button>
                  </Form>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {overrides.length === 0 ? <p className="muted">No overrides.</p> : null}
      {may ? (
        <Form method="post">
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="override" />
          <label>
            Type{" "}
            <select name="type" defaultValue="limit">
              <option value="limit">limit</option>
              <option value="feature">feature</option>
              <option value="flag">rollout flag</option>
              <option value="rate_limit">request budget</option>
            </select>
          </label>
          <label>
            Key <input name="key" required list="override-keys" placeholder="projects" />
            <datalist id="override-keys">
              {[...LIMITS, ...FEATURES, "tenant", "apiKey", "expensive"].map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </label>
          <label>
            Value{" "}
            <input
              name="value"
              placeholder="limit: a number or unlimited; feature/flag: true or false"
              size={50}
            />
          </label>
          <label>
            Limit kind{" "}
            <select name="hard" defaultValue="">
              <option value="">as the plan says</option>
              <option value="hard">hard</option>
              <option value="soft">soft</option>
            </select>
          </label>
          <label>
            Request budget{" "}
            <input name="per_second" type="number" min={1} placeholder="per second" />{" "}
            <input name="per_minute" type="number" min={1} placeholder="per minute" />
          </label>
          <label>
            Expires in (days; empty = never — comps should always expire){" "}
            <input name="expires_days" type="number" min={1} max={3650} />
          </label>
          <ReasonField />
          <button type="submit">Add override</button>
          <p className="muted">The tenant's meter re-reads its limits at once.</p>
        </Form>
      ) : null}
    </section>
  );
}
