import { csvResponse } from "../../server/csv";
import { requireOperator } from "../../server/page-auth";
import { exportOperatorAuditCsv, operatorAuditFilters } from "../../server/services/operator-audit";
import type { Route } from "./+types/audit.csv";

/** The audit page's CSV download (the page's session; the JSON API has its own, by token). */
export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "audit:read");
  const input = operatorAuditFilters(new URL(args.request.url).searchParams);
  return csvResponse(await exportOperatorAuditCsv({ ctx, input }), "operator-audit.csv");
}
