import { Form, Link, useActionData, useLoaderData } from "react-router";
import { requireOperator } from "../../server/page-auth";
import { formMutation } from "../../server/page-forms";
import { can } from "../../server/roles";
import {
  LEDGER_FILTERS,
  type LedgerFilter,
  listStripeEvents,
  replayStripeEvent,
} from "../../server/services/billing";
import { LedgerTable } from "../components/ledger-table";
import type { Route } from "./+types/billing";

export function meta() {
  return [{ title: "Billing operations · Tenantry operators" }];
}

const isFilter = (v: string | null): v is LedgerFilter =>
  (LEDGER_FILTERS as readonly string[]).includes(v ?? "");

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "billing:read");
  const url = new URL(args.request.url);
  const state = url.searchParams.get("state");
  const filter = isFilter(state) ? state : undefined;
  const page = await listStripeEvents({
    ctx,
    input: { filter, cursor: url.searchParams.get("cursor") ?? undefined },
  });
  return {
    page,
    filter: filter ?? "",
    csrf: ctx.csrfToken,
    canWrite: can(ctx.operator.role, "billing:write"),
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "billing:write");
  const form = await args.request.formData();
  return formMutation(form, ctx, (reason) =>
    replayStripeEvent({ ctx, input: { eventId: String(form.get("event_id")), reason } }),
  );
}

export default function Billing() {
  const { page, filter, csrf, canWrite } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const older = page.next_cursor
    ? `?${new URLSearchParams({ ...(filter ? { state: filter } : {}), cursor: page.next_cursor })}`
    : null;
  return (
    <main className="page">
      <h1>Billing operations</h1>
      <p>
        <Link to="/billing/reconcile">Usage reconcile</Link> · a tenant's ledger and re-sync: follow
        its id below.
      </p>
      <Form method="get" className="card">
        <label htmlFor="state">Show events</label>
        <select id="state" name="state" defaultValue={filter}>
          <option value="">all</option>
          {LEDGER_FILTERS.map((f) => (
            <option key={f} value={f}>
              {f === "failed" ? "failed (dead-lettered)" : f}
            </option>
          ))}
        </select>{" "}
        <button type="submit">Show</button>
      </Form>
      {result?.error ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : null}
      {result?.ok ? <p role="status">Event {result.ok.id} is queued again.</p> : null}
      <LedgerTable
        caption="Stripe event ledger, newest first"
        events={page.data}
        csrf={csrf}
        canReplay={canWrite}
        showTenant
      />
      {older ? <Link to={older}>Older events</Link> : null}
    </main>
  );
}
