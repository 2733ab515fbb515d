import { effectivePlan, readBilling, stripeClient, syncTenantBilling } from "@tenantry/core";
import { meteredPriceLookupKey, type PlanId, priceLookupKey } from "@tenantry/plans";
import type Stripe from "stripe";
import type { ServiceContext } from "../context";
import { config, type Env } from "../env";
import { ServiceUnavailableError, ValidationError } from "../errors";
import { linkStripeCustomer } from "./billing-customer";
import { tenantEntitlements } from "./entitlements";
import { findTenantById, type TenantRow, tenantUrl } from "./registry";

/** What GET /v1/billing shows. Invoices come live from Stripe; null when it cannot be reached. */
export async function billingOverview(ctx: ServiceContext) {
  const row = await readBilling(ctx.env, ctx.tenant.id);
  const { plan, access, graceEndsAt } = effectivePlan(ctx.env, row);
  const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : null);
  const stripe = stripeClient(config(ctx.env));
  let invoices:
    | {
        id: string;
        status: string | null;
        amount_due: number;
        amount_paid: number;
        currency: string;
        created: string;
        hosted_invoice_url: string | null;
      }[]
    | null = [];
  if (stripe && row) {
    try {
      const list = await stripe.invoices.list({ customer: row.stripe_customer_id, limit: 5 });
      invoices = list.data.map((i) => ({
        id: i.id ?? "",
        status: i.status,
        amount_due: i.amount_due,
        amount_paid: i.amount_paid,
        currency: i.currency,
        created: new Date(i.created * 1000).toISOString(),
        hosted_invoice_url: i.hosted_invoice_url ?? null,
      }));
    } catch (err) {
      // The rest of the page is stored state; say invoices are unavailable rather than fail.
      console.error(
        JSON.stringify({
          level: "warn",
          msg: "invoices unavailable",
          tenant_id: ctx.tenant.id,
          error: String(err),
        }),
      );
      invoices = null;
    }
  }
  return {
    plan,
    subscribed_plan: row?.plan ?? "free",
    status: row?.status ?? null,
    access,
    interval: row?.interval ?? null,
    current_period_end: iso(row?.current_period_end),
    cancel_at_period_end: Boolean(row?.cancel_at_period_end),
    trial_end: iso(row?.trial_end),
    grace_ends_at: iso(graceEndsAt),
    entitlements: await tenantEntitlements(ctx.env, ctx.tenant.id),
    invoices,
  };
}

async function customerOf(
  ctx: ServiceContext,
): Promise<{ stripe: Stripe; customer: string; tenant: TenantRow }> {
  const stripe = stripeClient(config(ctx.env));
  // Fresh from the registry: the cached row may predate the customer link.
  const tenant = (await findTenantById(ctx.env, ctx.tenant.id)) ?? ctx.tenant;
  const owner = await ctx.env.CONTROL_DB.prepare("SELECT email FROM users WHERE id = ?")
    .bind(tenant.ownerUserId)
    .first<{ email: string }>();
  const customer = stripe
    ? (tenant.stripeCustomerId ?? (await linkStripeCustomer(ctx.env, tenant, owner?.email ?? "")))
    : null;
  if (!stripe || !customer) {
    throw new ServiceUnavailableError(
      "billing_unavailable",
      "Billing is not reachable right now; try again shortly.",
      30,
    );
  }
  return { stripe, customer, tenant };
}

/** A Stripe Checkout session for a paid plan; its success URL re-syncs before the webhook comes. */
export async function createCheckout(
  ctx: ServiceContext,
  input: { plan: PlanId; interval: "month" | "year" },
) {
  if (input.plan === "free")
    throw new ValidationError("The free plan needs no checkout.", [
      { path: "body.plan", message: "choose a paid plan" },
    ]);
  const { stripe, customer, tenant } = await customerOf(ctx);
  const keys = [
    priceLookupKey(input.plan, input.interval),
    meteredPriceLookupKey(input.plan, "events", input.interval),
  ];
  const prices = await stripe.prices.list({ lookup_keys: keys, active: true });
  const licensed = prices.data.find((p) => p.lookup_key === keys[0]);
  if (!licensed) {
    throw new ValidationError(
      `No price is set up for ${input.plan} (${input.interval}); run npm run stripe:sync.`,
      [{ path: "body.plan", message: "no price for this plan and interval" }],
    );
  }
  const base = tenantUrl(config(ctx.env), tenant.slug);
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer,
    line_items: prices.data.map((p) =>
      p.id === licensed.id ? { price: p.id, quantity: 1 } : { price: p.id },
    ),
    success_url: `${base}/v1/billing/checkout/complete?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${base}/billing`,
    client_reference_id: tenant.id,
    metadata: { tenant_id: tenant.id },
    subscription_data: { metadata: { tenant_id: tenant.id } },
  });
  return { url: session.url ?? "" };
}

export async function createPortal(ctx: ServiceContext) {
  const { stripe, customer, tenant } = await customerOf(ctx);
  const session = await stripe.billingPortal.sessions.create({
    customer,
    return_url: `${tenantUrl(config(ctx.env), tenant.slug)}/billing`,
  });
  return { url: session.url };
}

/**
 * The checkout success redirect: the session must belong to this host's tenant; then the billing
 * state is re-synced at once, so the plan is right before the webhook arrives.
 */
export async function completeCheckout(
  env: Env,
  tenant: TenantRow,
  sessionId: string,
  ctx: { requestId: string; ip: string | null },
) {
  const stripe = stripeClient(config(env));
  const fresh = (await findTenantById(env, tenant.id)) ?? tenant;
  if (!stripe || !fresh.stripeCustomerId)
    throw new ServiceUnavailableError(
      "billing_unavailable",
      "Billing is not reachable right now.",
      30,
    );
  // Only "no such session" means unknown; an outage must surface as one, not as a 400.
  const session = await stripe.checkout.sessions.retrieve(sessionId).catch((err: unknown) => {
    if ((err as { code?: string }).code === "resource_missing") return null;
    throw new ServiceUnavailableError(
      "billing_unavailable",
      "Billing is not reachable right now.",
      30,
    );
  });
  if (!session || session.customer !== fresh.stripeCustomerId) {
    throw new ValidationError("Unknown checkout session.", [
      { path: "query.session_id", message: "not a checkout of this tenant" },
    ]);
  }
  await syncTenantBilling(env, fresh, ctx);
  return `${tenantUrl(config(env), fresh.slug)}/billing?checkout=${session.status === "complete" ? "complete" : "open"}`;
}
