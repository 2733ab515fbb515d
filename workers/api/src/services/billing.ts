import {
  meteredPriceLookupKey,
  type PlanId,
  parseLookupKey,
  priceLookupKey,
} from "@tenantry/plans";
import type Stripe from "stripe";
import type { ServiceContext } from "../context";
import { tenantDb } from "../db/tenant-db";
import { config, type Env } from "../env";
import { ServiceUnavailableError, ValidationError } from "../errors";
import { auditEntry } from "../lib/audit";
import { stripeClient } from "../lib/stripe";
import { linkStripeCustomer } from "./billing-customer";
import { type BillingRow, effectivePlan, readBilling } from "./billing-state";
import { tenantEntitlements } from "./entitlements";
import { findTenantById, type TenantRow, tenantUrl } from "./registry";

// Subscriptions still in play win over ended ones when a customer has several.
const LIVE = new Set(["active", "trialing", "past_due", "unpaid", "paused", "incomplete"]);

function pickSubscription(subs: Stripe.Subscription[]): Stripe.Subscription | null {
  const byNewest = [...subs].sort((a, b) => b.created - a.created);
  return byNewest.find((s) => LIVE.has(s.status)) ?? byNewest[0] ?? null;
}

function planOf(sub: Stripe.Subscription | null): { plan: PlanId; interval: string | null } {
  for (const item of sub?.items.data ?? []) {
    const parsed = item.price.lookup_key ? parseLookupKey(item.price.lookup_key) : null;
    if (parsed?.kind === "licensed") return { plan: parsed.plan, interval: parsed.interval };
  }
  return { plan: "free", interval: null };
}

/**
 * Re-fetches the customer's subscriptions from Stripe and applies them if this fetch is newer
 * than what is stored (so concurrent or out-of-order syncs converge), then records a plan or
 * status change in the registry and the tenant's audit log. Webhooks and the checkout redirect
 * are only hints to call this.
 */
export async function syncTenantBilling(
  env: Env,
  tenant: Pick<TenantRow, "id" | "plan" | "databaseBinding" | "stripeCustomerId">,
  ctx: { requestId: string; ip: string | null },
): Promise<BillingRow | null> {
  const stripe = stripeClient(config(env));
  if (!stripe || !tenant.stripeCustomerId) return readBilling(env, tenant.id);
  const fetchedAt = Date.now();
  const list = await stripe.subscriptions.list({
    customer: tenant.stripeCustomerId,
    status: "all",
    limit: 20,
  });
  const sub = pickSubscription(list.data);
  const { plan, interval } = planOf(sub);
  const before = await readBilling(env, tenant.id);
  const item = sub?.items.data[0];
  const pastDueSince =
    sub?.status === "past_due"
      ? before?.status === "past_due"
        ? before.past_due_since
        : fetchedAt
      : null;
  const applied = await env.CONTROL_DB.prepare(
    `INSERT INTO subscriptions (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan, interval,
       current_period_end, cancel_at_period_end, trial_end, past_due_since, synced_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = ?2, stripe_subscription_id = ?3, status = ?4,
       plan = ?5, interval = ?6, current_period_end = ?7, cancel_at_period_end = ?8, trial_end = ?9,
       past_due_since = ?10, synced_at = ?11
     WHERE subscriptions.synced_at < ?11
     RETURNING *`,
  )
    .bind(
      tenant.id,
      tenant.stripeCustomerId,
      sub?.id ?? null,
      sub?.status ?? null,
      plan,
      interval,
      item?.current_period_end ? item.current_period_end * 1000 : null,
      sub?.cancel_at_period_end ? 1 : 0,
      sub?.trial_end ? sub.trial_end * 1000 : null,
      pastDueSince,
      fetchedAt,
    )
    .first<BillingRow>();
  if (!applied) return readBilling(env, tenant.id);
  const now = effectivePlan(applied);
  const was = effectivePlan(before);
  if (now.plan !== tenant.plan || before?.status !== applied.status || now.access !== was.access) {
    await env.CONTROL_DB.prepare("UPDATE tenants SET plan = ?, updated_at = ? WHERE id = ?")
      .bind(now.plan, Date.now(), tenant.id)
      .run();
    const db = tenantDb(env, tenant);
    await auditEntry(
      { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "system", id: "stripe" } },
      {
        action: "billing.update",
        target: { type: "tenant", id: tenant.id },
        before: { plan: tenant.plan, status: before?.status ?? null, access: was.access },
        after: { plan: now.plan, status: applied.status, access: now.access },
      },
    );
  }
  return applied;
}

/** What GET /v1/billing shows. Invoices come live from Stripe; null when it cannot be reached. */
export async function billingOverview(ctx: ServiceContext) {
  const row = await readBilling(ctx.env, ctx.tenant.id);
  const { plan, access, graceEndsAt } = effectivePlan(row);
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
