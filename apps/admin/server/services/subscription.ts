import { controlDb, coreConfig, ProblemError, stripeClient, ValidationError } from "@tenantry/core";
import {
  CATALOG,
  type Interval,
  IntervalSchema,
  meteredPriceLookupKey,
  PlanIdSchema,
  parseLookupKey,
  priceLookupKey,
} from "@tenantry/plans";
import { z } from "zod";
import { operatorAuditEntry } from "../audit";
import type { OperatorContext } from "../context";
import { parseInput } from "./input";
import { findTenant, REASON } from "./tenants";

export const PlanChangeSchema = z.object({
  plan: PlanIdSchema.exclude(["free"]),
  /** Defaults to the subscription's current interval. */
  interval: IntervalSchema.optional(),
  reason: REASON,
});
export type PlanChangeInput = z.input<typeof PlanChangeSchema>;

// Subscriptions that can change price; ended ones cannot be updated in Stripe.
const CHANGEABLE = new Set(["active", "trialing", "past_due", "unpaid", "paused"]);

const conflict = (code: string, detail: string) => new ProblemError(409, code, "Conflict", detail);

/**
 * Moves a tenant's subscription to another plan in Stripe (the licensed price and, where the
 * plan has one, the metered price). Nothing is written to the tenant's plan here: Stripe stays
 * the authority, and its webhooks (or any re-sync) converge the registry, entitlements and meter.
 * Free is not a price: a tenant goes to free by cancelling, in the portal or in Stripe.
 */
export async function changePlan({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: PlanChangeInput & { tenantId: string };
}) {
  const change = parseInput(PlanChangeSchema, input);
  const tenant = await findTenant(ctx, input.tenantId);
  const stripe = stripeClient(coreConfig(ctx.env));
  if (!stripe) throw new ProblemError(503, "billing_unavailable", "Billing unavailable");
  if (!tenant.stripeCustomerId) {
    throw conflict("no_subscription", "The tenant has no Stripe customer yet.");
  }
  // Ask Stripe, not the local copy a webhook may not have reached.
  const list = await stripe.subscriptions.list({
    customer: tenant.stripeCustomerId,
    status: "all",
    limit: 20,
  });
  const sub = list.data.find((s) => CHANGEABLE.has(s.status));
  if (!sub) {
    throw conflict(
      "no_subscription",
      "The tenant has no live subscription to change; it subscribes through checkout (or comp it with an override).",
    );
  }
  const items = sub.items.data.map((item) => ({
    item,
    parsed: item.price.lookup_key ? parseLookupKey(item.price.lookup_key) : null,
  }));
  const licensed = items.find((i) => i.parsed?.kind === "licensed");
  if (!licensed?.parsed) {
    throw conflict("unknown_subscription", "The subscription has no price of this platform's.");
  }
  const from = licensed.parsed.plan;
  const interval: Interval = change.interval ?? licensed.parsed.interval;
  if (from === change.plan && interval === licensed.parsed.interval) {
    throw conflict(
      "plan_unchanged",
      `The subscription is already on ${change.plan} (${interval}).`,
    );
  }
  const keys = [priceLookupKey(change.plan, interval)];
  const metered = CATALOG.plans[change.plan].metered.events
    ? meteredPriceLookupKey(change.plan, "events", interval)
    : null;
  if (metered) keys.push(metered);
  const prices = await stripe.prices.list({ lookup_keys: keys, active: true });
  const price = (key: string) => prices.data.find((p) => p.lookup_key === key);
  const newLicensed = price(keys[0] as string);
  if (!newLicensed || (metered && !price(metered))) {
    throw new ValidationError(`No price is set up for ${change.plan} (${interval}).`, [
      { path: "body.plan", message: "run npm run stripe:sync" },
    ]);
  }
  const oldMetered = items.find((i) => i.parsed?.kind === "metered");
  const update = [
    { id: licensed.item.id, price: newLicensed.id },
    ...(oldMetered
      ? [
          metered
            ? { id: oldMetered.item.id, price: price(metered)?.id }
            : { id: oldMetered.item.id, deleted: true },
        ]
      : metered
        ? [{ price: price(metered)?.id }]
        : []),
  ];
  const updated = await stripe.subscriptions.update(
    sub.id,
    { items: update, proration_behavior: "create_prorations" },
    // A retried request (same request id) changes the subscription once.
    { idempotencyKey: `admin-plan:${ctx.requestId}` },
  );
  // Stripe has changed; the entry records it (there is no local change to batch it with).
  const db = controlDb(ctx.env);
  await operatorAuditEntry(ctx, db, {
    action: "subscription.update",
    tenantId: tenant.id,
    target: { type: "subscription", id: sub.id },
    reason: change.reason,
    before: { plan: from, interval: licensed.parsed.interval, price: licensed.item.price.id },
    after: { plan: change.plan, interval, price: newLicensed.id },
  });
  return {
    subscription_id: updated.id,
    status: updated.status,
    plan: change.plan,
    interval,
    /** The registry follows when Stripe's webhook is processed (usually seconds). */
    converges_via: "stripe_webhook" as const,
  };
}
