import { Form, Link, useActionData, useLoaderData } from "react-router";
import { requireOperator } from "../../server/page-auth";
import { formMutation } from "../../server/page-forms";
import { can } from "../../server/roles";
import {
  listStripeEvents,
  reconcileTenantUsage,
  replayStripeEvent,
  resyncTenantBilling,
} from "../../server/services/billing";
import { LedgerTable } from "../components/ledger-table";
import { ReconcileTable } from "../components/reconcile-table";
import type { Route } from "./+types/billing.$tenantId";

export function meta({ params }: Route.MetaArgs) {
  return [{ title: `Billing of ${params.tenantId} · Tenantry operators` }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "billing:read");
  const tenantId = args.params.tenantId;
  const cursor = new URL(args.request.url).searchParams.get("cursor") ?? undefined;
  const [page, reconcile] = await Promise.all([
    listStripeEvents({ ctx, input: { tenantId, cursor } }),
    reconcileTenantUsage({ ctx, input: { tenantId } }),
  ]);
  return {
    tenantId,
    page,
    reconcile,
    csrf: ctx.csrfToken,
    canWrite: can(ctx.operator.role, "billing:write"),
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "billing:write");
  const form = await args.request.formData();
  const tenantId = args.params.tenantId;
  return formMutation(form, ctx, (reason) =>
    form.get("intent") === "replay"
      ? replayStripeEvent({ ctx, input: { eventId: String(form.get("event_id")), reason } })
      : resyncTenantBilling({ ctx, input: { tenantId, reason } }),
  );
}

export default function TenantBilling() {
  const { tenantId, page, reconcile, csrf, canWrite } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page">
      <p>
        <Link to="/billing">Billing operations</Link>
      </p>
      <h1>Billing of {tenantId}</h1>
      {result?.error ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : null}
      {result?.ok ? (
        <p role="status">Queued as {result.ok.id}; the ledger below shows how it ends.</p>
      ) : null}
      {canWrite ? (
        <Form method="post" className="card">
          <h2>Re-sync from Stripe</h2>
          <p className="muted">
            Queued like a webhook: the webhooks worker re-fetches the customer's subscriptions.
          </p>
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="intent" value="resync" />
          <label htmlFor="resync-reason">Reason</label>
          <input id="resync-reason" name="reason" required minLength={3} />{" "}
          <button type="submit">Re-sync</button>
        </Form>
      ) : null}
      <LedgerTable
        caption="This tenant's Stripe events, newest first"
        events={page.data}
        csrf={csrf}
        canReplay={canWrite}
      />
      {page.next_cursor ? (
        <Link to={`?${new URLSearchParams({ cursor: page.next_cursor })}`}>Older events</Link>
      ) : null}
      <h2>Usage reconcile</h2>
      <ReconcileTable
        caption="Meter, ledger and Stripe per metric and period"
        rows={reconcile.rows}
      />
    </main>
  );
}
