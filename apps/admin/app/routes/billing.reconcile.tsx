import { Form, Link, useLoaderData } from "react-router";
import { requireOperator } from "../../server/page-auth";
import { reconcileTenantUsage } from "../../server/services/billing";
import { ReconcileTable } from "../components/reconcile-table";
import type { Route } from "./+types/billing.reconcile";

export function meta() {
  return [{ title: "Usage reconcile · Tenantry operators" }];
}

/** Runs only when asked (`?run=1`): it reads every active tenant's meter and Stripe's summaries. */
export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "billing:read");
  const url = new URL(args.request.url);
  if (url.searchParams.get("run") !== "1") return { result: null };
  return { result: await reconcileTenantUsage({ ctx, input: {} }) };
}

export default function Reconcile() {
  const { result } = useLoaderData<typeof loader>();
  return (
    <main className="page">
      <p>
        <Link to="/billing">Billing operations</Link>
      </p>
      <h1>Usage reconcile</h1>
      <p className="muted">
        Per tenant, metric and period: the meter (the authority), the usage ledger and Stripe's
        meter summaries. Usage of the last minute may still be in flight and show as a mismatch;
        dead-lettered usage is what Stripe refused for good.
      </p>
      <Form method="get">
        <input type="hidden" name="run" value="1" />
        <button type="submit">Reconcile every active tenant</button>
      </Form>
      {result ? (
        <>
          <p role="status" className={result.mismatches.length ? "warn" : undefined}>
            {result.rows.length} rows, {result.mismatches.length} not ok.
          </p>
          <ReconcileTable caption="Mismatches" rows={result.mismatches} />
          <ReconcileTable caption="Every row" rows={result.rows} />
        </>
      ) : null}
    </main>
  );
}
