import type { paths } from "@tenantry/client";
import { useEffect } from "react";
import { Form, useSearchParams } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import { formatCount, formatDate, formatMoney } from "../format";
import { useCan, useSignedIn } from "../signed-in";
import type { Route } from "./+types/billing";

export function meta() {
  return [{ title: "Billing" }];
}

type CheckoutBody =
  paths["/v1/billing/checkout"]["post"]["requestBody"]["content"]["application/json"];

interface Invoice {
  id: string;
  status: string | null;
  amount_due: number;
  amount_paid: number;
  currency: string;
  created: string;
  hosted_invoice_url: string | null;
}

/**
 * The plan catalog for everyone; the billing state for those who may read it (a 403 is not an
 * error here: the page says who can see billing instead).
 */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const [plans, billing] = await Promise.all([api.GET("/v1/plans"), api.GET("/v1/billing")]);
  for (const r of [plans, billing]) if (r.response.status === 401) throw signedOut(args);
  if (!plans.data) throw apiFailure(plans);
  if (!billing.data && billing.response.status !== 403) throw apiFailure(billing);
  return { plans: plans.data, billing: billing.data ?? null };
}

/**
 * Checkout and the portal both answer with a Stripe page to send the browser to. The page's
 * CSP (`form-action 'self'`) refuses a form post that redirects to another origin, so the URL
 * comes back as data: scripts follow it at once, and without JavaScript it is a link.
 */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const result =
    form.get("intent") === "portal"
      ? await api.POST("/v1/billing/portal")
      : await api.POST("/v1/billing/checkout", {
          body: {
            // The API validates the plan (and refuses free and contact-sales plans).
            plan: String(form.get("plan")) as CheckoutBody["plan"],
            interval: form.get("interval") === "year" ? "year" : "month",
          },
        });
  if (!result.data) return { problem: shownProblem(result), to: null };
  return { problem: null, to: result.data.url };
}

const ACCESS: Record<string, string> = {
  full: "Full access",
  read_only: "Read-only until billing is settled",
  free_limits: "Free plan limits",
};

export default function Billing({ loaderData, actionData }: Route.ComponentProps) {
  const { plans, billing } = loaderData;
  const { me } = useSignedIn();
  const canManage = useCan("billing:manage");
  const [search] = useSearchParams();
  const to = actionData?.to;
  useEffect(() => {
    if (to) window.location.assign(to);
  }, [to]);
  const current = plans.data.find((p) => p.id === billing?.plan);
  // A paying subscription (any access but free limits) changes plans in the portal; the API
  // refuses a second checkout either way (409 subscription_exists, shown beside the form).
  const subscribed = billing ? billing.access !== "free_limits" : false;
  const cannotManage = `Only owners and billing members can change billing; your role is ${me.role ?? "an API key"}.`;
  const invoices = (billing?.invoices ?? null) as Invoice[] | null;
  return (
    <div className="stack">
      <h1>Billing</h1>
      <ProblemNotice problem={actionData?.problem} />
      {to && (
        <p className="notice ok" role="status">
          Continuing to Stripe… <a href={to}>Open the Stripe page</a>
        </p>
      )}
      {search.get("checkout") === "complete" && (
        <p className="notice ok" role="status">
          Payment received. The plan below updates as soon as Stripe confirms the subscription.
        </p>
      )}
      {!billing ? (
        <p className="notice warn">
          Your role ({me.role ?? "API key"}) cannot see or change billing. Ask an owner or a billing
          member of {me.tenant.name}.
        </p>
      ) : (
        <section className="card" aria-labelledby="current-plan">
          <h2 id="current-plan">Current plan</h2>
          <dl className="facts" data-testid="current-plan">
            <dt>Plan</dt>
            <dd>{current?.name ?? billing.plan}</dd>
            <dt>Status</dt>
            <dd>{billing.status ?? "No subscription"}</dd>
            <dt>Access</dt>
            <dd>{ACCESS[billing.access] ?? billing.access}</dd>
            {billing.grace_ends_at && (
              <>
                <dt>Read-only from</dt>
                <dd>{formatDate(billing.grace_ends_at)}</dd>
              </>
            )}
            {billing.interval && (
              <>
                <dt>Billed</dt>
                <dd>{billing.interval === "year" ? "Yearly" : "Monthly"}</dd>
              </>
            )}
            {billing.current_period_end && (
              <>
                <dt>{billing.cancel_at_period_end ? "Ends on" : "Renews on"}</dt>
                <dd>{formatDate(billing.current_period_end)}</dd>
              </>
            )}
            <dt>Cancels at period end</dt>
            <dd>{billing.cancel_at_period_end ? "Yes" : "No"}</dd>
            {billing.trial_end && (
              <>
                <dt>Trial ends</dt>
                <dd>{formatDate(billing.trial_end)}</dd>
              </>
            )}
          </dl>
          <Form method="post">
            <CsrfField />
            <button type="submit" name="intent" value="portal" disabled={!canManage}>
              Manage billing
            </button>{" "}
            <span className="muted">
              {canManage
                ? "Card, plan changes, cancellation and invoices in the Stripe billing portal."
                : cannotManage}
            </span>
          </Form>
        </section>
      )}

      <section aria-labelledby="plans">
        <h2 id="plans">Plans</h2>
        {subscribed && (
          <p className="muted">To move to another plan, use Manage billing (the Stripe portal).</p>
        )}
        {!canManage && <p className="muted">{cannotManage}</p>}
        <div className="table-scroll">
          <table className="plans">
            <caption className="visually-hidden">Plan comparison</caption>
            <thead>
              <tr>
                <th scope="col">Plan</th>
                {plans.data.map((p) => (
                  <th scope="col" key={p.id}>
                    {p.name}
                    {p.id === billing?.plan && <span className="badge">Current</span>}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Price</th>
                {plans.data.map((p) => (
                  <td key={p.id}>
                    {p.prices ? (
                      <>
                        {formatMoney(p.prices.month, plans.currency)}/month
                        <br />
                        <span className="muted">
                          or {formatMoney(p.prices.year, plans.currency)}/year
                        </span>
                      </>
                    ) : (
                      "Free"
                    )}
                  </td>
                ))}
              </tr>
              {plans.data[0]?.limits.map((limit) => (
                <tr key={limit.key}>
                  <th scope="row">
                    {limit.description}
                    {limit.period && <span className="muted"> per {limit.period}</span>}
                  </th>
                  {plans.data.map((p) => {
                    const l = p.limits.find((x) => x.key === limit.key);
                    return (
                      <td key={p.id}>
                        {formatCount(l?.value ?? null)}
                        {l && !l.hard && l.value !== null && (
                          <span className="muted"> (then billed)</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
              <tr>
                <th scope="row">Features</th>
                {plans.data.map((p) => (
                  <td key={p.id}>{p.features.map((f) => f.replaceAll("_", " ")).join(", ")}</td>
                ))}
              </tr>
              <tr>
                <th scope="row">Choose</th>
                {plans.data.map((p) => (
                  <td key={p.id}>
                    {p.id === billing?.plan ? (
                      <span className="muted">Your plan</span>
                    ) : p.contact_sales ? (
                      <span className="muted">Contact sales</span>
                    ) : p.prices && !subscribed ? (
                      <Form method="post" className="stack tight">
                        <CsrfField />
                        <input type="hidden" name="intent" value="checkout" />
                        <input type="hidden" name="plan" value={p.id} />
                        {(["month", "year"] as const).map((interval) => (
                          <button
                            key={interval}
                            type="submit"
                            name="interval"
                            value={interval}
                            className={interval === "month" ? "primary" : undefined}
                            disabled={!canManage}
                          >
                            Upgrade to {p.name} ({interval === "month" ? "monthly" : "yearly"})
                          </button>
                        ))}
                      </Form>
                    ) : null}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      </section>

      {billing && (
        <section aria-labelledby="invoices">
          <h2 id="invoices">Invoices</h2>
          {invoices === null ? (
            <p className="notice warn">Invoices cannot be loaded from Stripe right now.</p>
          ) : invoices.length === 0 ? (
            <p className="muted">No invoices yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Status</th>
                  <th scope="col">Amount due</th>
                  <th scope="col">Paid</th>
                  <th scope="col">Invoice</th>
                </tr>
              </thead>
              <tbody>
                {invoices.map((i) => (
                  <tr key={i.id}>
                    <td>{formatDate(i.created)}</td>
                    <td>{i.status ?? "—"}</td>
                    <td>{formatMoney(i.amount_due, i.currency)}</td>
                    <td>{formatMoney(i.amount_paid, i.currency)}</td>
                    <td>
                      {i.hosted_invoice_url ? <a href={i.hosted_invoice_url}>View {i.id}</a> : i.id}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </div>
  );
}
