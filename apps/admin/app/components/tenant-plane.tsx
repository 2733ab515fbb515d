import type { getTenantDetail } from "../../server/services/tenant-detail";

type Detail = Awaited<ReturnType<typeof getTenantDetail>>;

import { text } from "./format";

/** Members, read-only, from the tenant's own database. */
export function MembersSection({ members }: { members: Detail["members"] }) {
  return (
    <section className="card">
      <h2>Members ({members.length})</h2>
      <table>
        <thead>
          <tr>
            <th>Email</th>
            <th>Role</th>
            <th>Since</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.id}>
              <td>{m.email}</td>
              <td>{m.role}</td>
              <td>{text(m.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The newest entries of the tenant's own audit log. */
export function AuditSection({ audit }: { audit: Detail["audit"] }) {
  return (
    <section className="card">
      <h2>Recent tenant audit</h2>
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Action</th>
            <th>Actor</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {audit.map((a) => (
            <tr key={a.id}>
              <td>{text(a.created_at)}</td>
              <td>{a.action}</td>
              <td>
                {a.actor.type} {a.actor.id}
              </td>
              <td>
                {a.target.type} {a.target.id}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
