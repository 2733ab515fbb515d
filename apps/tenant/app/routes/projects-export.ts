// EXAMPLE PRODUCT: a project's tasks as CSV, an export the plan gates (audit_export: the catalog's
// export feature), so the example shows a plan-gated control end to end.
import { data } from "react-router";
import { apiFailure } from "../../server/api";
import { featureGates } from "../../server/plan-gate";
import { signedIn, signedOut } from "../../server/signed-in";
import type { Route } from "./+types/projects-export";

/** Refuses CSV injection: a cell starting with a formula character is quoted as text. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const id = args.params.id;
  const gated = await featureGates(api, ["audit_export"]);
  if ("failed" in gated) {
    if (gated.failed.response.status === 401) throw signedOut(args);
    throw apiFailure(gated.failed);
  }
  const gate = gated.gates.audit_export;
  if (!gate.included)
    throw data(`Exporting tasks needs the ${gate.unlockedBy.join(" or ")} plan.`, { status: 403 });
  const rows = ["id,title,status,created_at"];
  let cursor: string | undefined;
  do {
    const r = await api.GET("/v1/projects/{id}/tasks", {
      params: { path: { id }, query: { limit: 100, ...(cursor && { cursor }) } },
    });
    if (!r.data) throw apiFailure(r);
    for (const t of r.data.data)
      rows.push([t.id, t.title, t.status, t.created_at].map(cell).join(","));
    cursor = r.data.next_cursor ?? undefined;
  } while (cursor);
  return new Response(`${rows.join("\r\n")}\r\n`, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${id}-tasks.csv"`,
    },
  });
}
