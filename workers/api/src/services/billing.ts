import {
  effectivePlan,
  log,
  readBilling,
  stripeClient,
  syncTenantBilling,
  tenantEntitlements,
} from "@tenantry/core";
import { CATALOG, meteredPriceLookupKey, type PlanId, priceLookupKey } from "@tenantry/plans";
import { checkoutSessions, users } from "@tenantry/schema/control";
import { and, eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { ServiceContext, TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config } from "../env";
import { ConflictError, ProblemError, ServiceUnavailableError, ValidationError } from "../errors";
import { linkStripeCustomer } from "./billing-customer";
import { findTenantById, type TenantRow, tenantUrl } from "./registry";
import { takeAttempt } from "./throttle";

/** What billing allows the tenant now, and (past due within grace) until when. */
export async function billingAccess(env: ServiceContext["env"], tenantId: string) {
  const { access, graceEndsAt } = effectivePlan(env, await readBilling(env, tenantId));
  return { access, grace_ends_at: graceEndsAt ? new Date(graceEndsAt).toISOString() : null };
}

/** What GET /v1/billing shows. Invoices come live from Stripe; null when it cannot be reached. */
export async function billingOverview({ ctx }: { ctx: ServiceContext; input?: undefined }) {
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
      const list = await stripe.invoices.list({ customer: row.stripeCustomerId, limit: 5 });
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
      log.forTenant(ctx.tenant.id).warn("invoices unavailable", { error: String(err) });
      invoices = null;
    }
  }
  return {
    plan,
    subscribed_plan: row?.plan ?? "free",
    status: row?.status ?? null,
    access,
    interval: row?.interval ?? null,
    current_period_end: iso(row?.currentPeriodEnd),
    cancel_at_period_end: Boolean(row?.cancelAtPeriodEnd),
    trial_end: iso(row?.trialEnd),
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
  const owner = await controlDb(ctx.env)
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, tenant.ownerUserId))
    .get();
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

/** Subscriptions still in play: a tenant with one changes plans in the billing portal. */
const LIVE_STATUSES = new Set(["active", "trialing", "past_due", "unpaid", "paused", "incomplete"]);

/**
 * A Stripe Checkout session for a self-serve paid plan; its success URL re-syncs before the
 * webhook comes. Contact-sales plans and a second live subscription are refused.
 */
export async function createCheckout({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { plan: PlanId; interval: "month" | "year" };
}) {
  if (input.plan === "free")
    throw new ValidationError("The free plan needs no checkout.", [
      { path: "body.plan", message: "choose a paid plan" },
    ]);
  if (CATALOG.plans[input.plan].contactSales) {
    throw new ProblemError(
      400,
      "plan_contact_sales",
      "Contact sales",
      `The ${CATALOG.plans[input.plan].name} plan is sold by our sales team, not through checkout.`,
      { plan: input.plan },
    );
  }
  const { stripe, customer, tenant } = await customerOf(ctx);
  // Stripe is the authority: ask it, not the local copy that a webhook may not have reached.
  const subscriptions = await stripe.subscriptions.list({ customer, status: "all", limit: 20 });
  const live = subscriptions.data.find((s) => LIVE_STATUSES.has(s.status));
  if (live) {
    throw new ConflictError(
      "subscription_exists",
      `The workspace already has a ${live.status} subscription; change plans in the billing portal.`,
    );
  }
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
  await controlDb(ctx.env)
    .insert(checkoutSessions)
    .values({ id: session.id, tenantId: tenant.id, createdAt: Date.now() })
    .onConflictDoNothing();
  return { url: session.url ?? "" };
}

export async function createPortal({ ctx }: { ctx: ServiceContext; input?: undefined }) {
  const { stripe, customer, tenant } = await customerOf(ctx);
  const session = await stripe.billingPortal.sessions.create({
    customer,
    return_url: `${tenantUrl(config(ctx.env), tenant.slug)}/billing`,
  });
  return { url: session.url };
}

/** The success redirect is public (a browser arrives without a credential): it is throttled. */
export const CHECKOUT_COMPLETE_LIMITS = {
  client: { max: 30, windowMs: 60_000 },
  tenant: { max: 120, windowMs: 60_000 },
} as const;

/**
 * The checkout success redirect: the session must be one this platform created for this host's
 * tenant (anything else costs no Stripe call); then the billing state is re-synced at once, so
 * the plan is right before the webhook arrives.
 */
export async function completeCheckout({
  ctx,
  input: { session_id: sessionId },
}: {
  ctx: TenantRequestContext;
  input: { session_id: string };
}) {
  const { env, tenant } = ctx;
  await takeAttempt(env, [
    { key: `checkout:client:${ctx.ip ?? "unknown"}`, ...CHECKOUT_COMPLETE_LIMITS.client },
    { key: `checkout:tenant:${tenant.id}`, ...CHECKOUT_COMPLETE_LIMITS.tenant },
  ]);
  const ours = await controlDb(env)
    .select({ id: checkoutSessions.id })
    .from(checkoutSessions)
    .where(and(eq(checkoutSessions.id, sessionId), eq(checkoutSessions.tenantId, tenant.id)))
    .get();
  if (!ours) {
    throw new ValidationError("Unknown checkout session.", [
      { path: "query.session_id", message: "not a checkout of this tenant" },
    ]);
  }
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
