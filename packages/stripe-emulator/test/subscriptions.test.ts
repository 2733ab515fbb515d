import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { catalog, DAY, harness, rejection } from "./helpers.js";

async function eventTypes(stripe: Stripe): Promise<string[]> {
  const types: string[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) types.push(event.type);
  return types.reverse();
}

describe("subscriptions", () => {
  it("creates an active subscription with a paid first invoice", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const customer = await stripe.customers.create({
      email: "a@acme.test",
      payment_method: "pm_card_visa",
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id, quantity: 2 }],
      metadata: { tenant_id: "t1" },
      expand: ["latest_invoice"],
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.status).toBe("active");
    expect(sub.metadata).toEqual({ tenant_id: "t1" });
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    expect(item.id).toMatch(/^si_/);
    expect(item.price.id).toBe(month.id);
    expect(item.plan.id).toBe(month.id);
    expect(item.quantity).toBe(2);
    expect(item.current_period_end - item.current_period_start).toBeGreaterThanOrEqual(28 * DAY);
    expect(sub.billing_cycle_anchor).toBe(item.current_period_start);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.id).toMatch(/^in_/);
    expect(invoice.status).toBe("paid");
    expect(invoice.billing_reason).toBe("subscription_create");
    expect(invoice.amount_paid).toBe(4000);
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data[0]?.pricing?.price_details?.price).toBe(month.id);
    expect(invoice.lines.data[0]?.period.end).toBe(item.current_period_end);
    expect(invoice.number).toMatch(/^[0-9A-F]{8}-0001$/);

    expect(await eventTypes(stripe)).toEqual(
      expect.arrayContaining([
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
      ]),
    );
    const lines = await stripe.invoices.listLineItems(invoice.id);
    expect(lines.data).toHaveLength(1);
    const invoices = await stripe.invoices.list({ customer: customer.id, status: "paid" });
    expect(invoices.data.map((i) => i.id)).toEqual([invoice.id]);
  });

  it("lists by customer and status, and cancels immediately", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const a = await stripe.customers.create({ email: "a@acme.test" });
    const b = await stripe.customers.create({ email: "b@acme.test" });
    const subA = await stripe.subscriptions.create({
      customer: a.id,
      items: [{ price: month.id }],
    });
    await stripe.subscriptions.create({ customer: b.id, items: [{ price: month.id }] });

    expect((await stripe.subscriptions.list({ customer: a.id })).data.map((s) => s.id)).toEqual([
      subA.id,
    ]);
    const canceled = await stripe.subscriptions.cancel(subA.id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.ended_at).not.toBeNull();
    expect(canceled.cancellation_details?.reason).toBe("cancellation_requested");
    expect((await stripe.subscriptions.list({ customer: a.id })).data).toHaveLength(0);
    expect(
      (await stripe.subscriptions.list({ customer: a.id, status: "canceled" })).data,
    ).toHaveLength(1);
    expect((await stripe.subscriptions.list({ status: "all" })).data).toHaveLength(2);
    expect(
      (await stripe.subscriptions.list({ price: month.id, status: "active" })).data,
    ).toHaveLength(1);
    const deleted = await stripe.events.list({ type: "customer.subscription.deleted" });
    expect((deleted.data[0]?.data.object as Stripe.Subscription | undefined)?.id).toBe(subA.id);

    const again = await rejection(
      stripe.subscriptions.update(subA.id, { items: [{ price: month.id }] }),
    );
    expect(again.message).toContain("canceled subscription");
  });

  it("validates items and fails with a card error when asked to", async () => {
    const { stripe } = harness();
    const { month, year } = await catalog(stripe);
    const customer = await stripe.customers.create({
      payment_method: "pm_card_chargeCustomerFail",
    });
    const mixed = await rejection(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: month.id }, { price: year.id }],
      }),
    );
    expect(mixed.param).toBe("items[1][price]");
    const noItems = await rejection(stripe.subscriptions.create({ customer: customer.id }));
    expect(noItems.param).toBe("items");
    const unknownCustomer = await rejection(
      stripe.subscriptions.create({ customer: "cus_missing", items: [{ price: month.id }] }),
    );
    expect(unknownCustomer.code).toBe("resource_missing");
    expect(unknownCustomer.statusCode).toBe(400);

    const declined = await rejection(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: month.id }],
        payment_behavior: "error_if_incomplete",
      }),
    );
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(declined.statusCode).toBe(402);
    expect(declined.code).toBe("card_declined");
    expect((await stripe.subscriptions.list({ status: "all" })).data).toHaveLength(0);

    const incomplete = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    expect(incomplete.status).toBe("incomplete");
  });

  it("prorates plan changes: pending items, an immediate invoice, or nothing", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe, "pro", 3000);
    const big = await catalog(stripe, "business", 6000);
    const start = Date.UTC(2026, 0, 1) / 1000;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
    const customer = await stripe.customers.create({
      test_clock: clock.id,
      payment_method: "pm_card_visa",
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    const periodEnd = item.current_period_end;
    expect(periodEnd).toBe(Date.UTC(2026, 1, 1) / 1000);

    // Halfway-ish through January (31 days): 16 days remain.
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 15 * DAY });
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: big.month.id }],
      proration_behavior: "create_prorations",
    });
    expect(updated.items.data[0]?.price.id).toBe(big.month.id);
    expect(updated.items.data[0]?.id).toBe(item.id);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 }))
      .data[0] as Stripe.Invoice;
    expect(renewal.billing_reason).toBe("subscription_cycle");
    const amounts = renewal.lines.data.map((l) => l.amount).sort((a, b) => a - b);
    const remaining = 16 / 31;
    expect(amounts).toEqual(
      [-Math.round(3000 * remaining), Math.round(6000 * remaining), 6000].sort((a, b) => a - b),
    );
    expect(
      renewal.lines.data.filter((l) => l.parent?.invoice_item_details?.proration),
    ).toHaveLength(2);
    expect(renewal.status).toBe("paid");

    const immediate = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: month.id }],
      proration_behavior: "always_invoice",
    });
    const updateInvoice = await stripe.invoices.retrieve(immediate.latest_invoice as string);
    expect(updateInvoice.billing_reason).toBe("subscription_update");
    expect(updateInvoice.total).toBe(-3000);
    expect(updateInvoice.amount_due).toBe(0);
    const credited = await stripe.customers.retrieve(customer.id);
    if (!credited.deleted) expect(credited.balance).toBe(-3000);

    const quiet = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: "none",
    });
    expect(quiet.items.data[0]?.quantity).toBe(3);
    expect(quiet.latest_invoice).toBe(immediate.latest_invoice);

    // Switching to a yearly price resets the billing cycle and invoices at once.
    const yearly = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: big.year.id, quantity: 1 }],
    });
    const yearItem = yearly.items.data[0] as Stripe.SubscriptionItem;
    expect(yearly.billing_cycle_anchor).toBe(yearItem.current_period_start);
    expect(yearItem.current_period_end).toBe(Date.UTC(2027, 1, 1) / 1000 + 60);
    const yearInvoice = await stripe.invoices.retrieve(yearly.latest_invoice as string);
    expect(yearInvoice.billing_reason).toBe("subscription_update");
    expect(yearInvoice.lines.data.some((l) => l.amount === 60_000)).toBe(true);
  });

  it("supports subscription item create, update, list and delete", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const addon = await catalog(stripe, "seats", 500);
    const customer = await stripe.customers.create({});
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    const added = await stripe.subscriptionItems.create({
      subscription: sub.id,
      price: addon.month.id,
      quantity: 4,
      proration_behavior: "none",
    });
    expect(added.subscription).toBe(sub.id);
    expect(added.quantity).toBe(4);
    const updated = await stripe.subscriptionItems.update(added.id, {
      quantity: 5,
      proration_behavior: "none",
    });
    expect(updated.quantity).toBe(5);
    const items = await stripe.subscriptionItems.list({ subscription: sub.id });
    expect(items.data).toHaveLength(2);
    const removed = await stripe.subscriptionItems.del(added.id, { proration_behavior: "none" });
    expect(removed.deleted).toBe(true);
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after.items.data).toHaveLength(1);
  });
});
