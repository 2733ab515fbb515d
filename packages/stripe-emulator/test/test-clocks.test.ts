import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { catalog, DAY, harness } from "./helpers.js";

async function onClock(stripe: Stripe, frozenTime: number, paymentMethod = "pm_card_visa") {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: frozenTime,
    name: "renewals",
  });
  const customer = await stripe.customers.create({
    email: "billing@acme.test",
    test_clock: clock.id,
    payment_method: paymentMethod,
  });
  return { clock, customer };
}

async function invoicesOf(stripe: Stripe, subscription: string): Promise<Stripe.Invoice[]> {
  return (await stripe.invoices.list({ subscription, limit: 100 })).data.reverse();
}

describe("test clocks", () => {
  it("renews on each period end with a new paid invoice, anchored to the month end", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const start = Date.UTC(2026, 0, 31, 12) / 1000;
    const { clock, customer } = await onClock(stripe, start);
    expect(customer.test_clock).toBe(clock.id);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    expect(sub.test_clock).toBe(clock.id);
    expect(sub.start_date).toBe(start);

    const advanced = await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Date.UTC(2026, 3, 1) / 1000,
    });
    expect(advanced.status).toBe("advancing");
    expect(advanced.status_details.advancing?.target_frozen_time).toBe(Date.UTC(2026, 3, 1) / 1000);
    const ready = await stripe.testHelpers.testClocks.retrieve(clock.id);
    expect(ready.status).toBe("ready");
    expect(ready.frozen_time).toBe(Date.UTC(2026, 3, 1) / 1000);

    const invoices = await invoicesOf(stripe, sub.id);
    expect(invoices.map((i) => i.billing_reason)).toEqual([
      "subscription_create",
      "subscription_cycle",
      "subscription_cycle",
    ]);
    expect(invoices.every((i) => i.status === "paid")).toBe(true);
    expect(invoices.map((i) => i.created)).toEqual([
      start,
      Date.UTC(2026, 1, 28, 12) / 1000,
      Date.UTC(2026, 2, 31, 12) / 1000,
    ]);
    expect(invoices.map((i) => i.number?.slice(-4))).toEqual(["0001", "0002", "0003"]);
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    const item = renewed.items.data[0] as Stripe.SubscriptionItem;
    expect(item.current_period_start).toBe(Date.UTC(2026, 2, 31, 12) / 1000);
    expect(item.current_period_end).toBe(Date.UTC(2026, 3, 30, 12) / 1000);
    expect(renewed.status).toBe("active");
    expect(renewed.latest_invoice).toBe(invoices[2]?.id);
  });

  it("moves a failed renewal to past_due, retries on schedule, and recovers when paid", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const start = Date.UTC(2026, 4, 1) / 1000;
    const { clock, customer } = await onClock(stripe, start);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: "pm_card_chargeCustomerFail" },
    });
    const periodEnd = Date.UTC(2026, 5, 1) / 1000;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 3600 });

    let current = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(current.status).toBe("past_due");
    let invoice = current.latest_invoice as Stripe.Invoice;
    expect(invoice.status).toBe("open");
    expect(invoice.attempt_count).toBe(1);
    expect(invoice.attempted).toBe(true);
    expect(invoice.next_payment_attempt).toBe(periodEnd + 3 * DAY);
    expect((await stripe.events.list({ type: "invoice.payment_failed" })).data).toHaveLength(1);

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 4 * DAY });
    invoice = await stripe.invoices.retrieve(invoice.id);
    expect(invoice.attempt_count).toBe(2);
    expect(invoice.next_payment_attempt).toBe(periodEnd + 8 * DAY);

    await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const paid = await stripe.invoices.pay(invoice.id);
    expect(paid.status).toBe("paid");
    expect(paid.attempt_count).toBe(3);
    current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe("active");
    const statuses = (await stripe.events.list({ type: "customer.subscription.updated" })).data
      .map((e) => (e.data.object as Stripe.Subscription).status)
      .reverse();
    expect(statuses).toEqual(["active", "past_due", "active"]);
  });

  it("cancels after the last retry fails (default dunning rule)", async () => {
    const { stripe, emulator } = harness();
    const { month } = await catalog(stripe);
    const start = Date.UTC(2026, 4, 1) / 1000;
    const { clock, customer } = await onClock(stripe, start);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    emulator.setPaymentOutcome(customer.id, "fail");
    const periodEnd = Date.UTC(2026, 5, 1) / 1000;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 20 * DAY });
    const ended = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(ended.status).toBe("canceled");
    expect(ended.ended_at).toBe(periodEnd + 15 * DAY);
    expect(ended.cancellation_details?.reason).toBe("payment_failed");
    const invoice = ended.latest_invoice as Stripe.Invoice;
    expect(invoice.attempt_count).toBe(4);
    expect(invoice.next_payment_attempt).toBeNull();
  });

  it("marks the subscription unpaid when configured to", async () => {
    const { stripe, emulator } = harness({ dunning: { retryDays: [1], finalAction: "unpaid" } });
    const { month } = await catalog(stripe);
    const { clock, customer } = await onClock(stripe, Date.UTC(2026, 4, 1) / 1000);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    emulator.setPaymentOutcome(customer.id, "fail");
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Date.UTC(2026, 5, 3) / 1000,
    });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("unpaid");
  });

  it("converts a trial at its end and cancels at period end when asked", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const start = Date.UTC(2026, 0, 1) / 1000;
    const { clock, customer } = await onClock(stripe, start);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
      trial_period_days: 14,
      expand: ["latest_invoice"],
    });
    expect(sub.status).toBe("trialing");
    expect(sub.trial_start).toBe(start);
    expect(sub.trial_end).toBe(start + 14 * DAY);
    expect(sub.items.data[0]?.current_period_end).toBe(start + 14 * DAY);
    expect((sub.latest_invoice as Stripe.Invoice).amount_due).toBe(0);
    expect((sub.latest_invoice as Stripe.Invoice).status).toBe("paid");

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 12 * DAY });
    expect(
      (await stripe.events.list({ type: "customer.subscription.trial_will_end" })).data,
    ).toHaveLength(1);

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 15 * DAY });
    const converted = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(converted.status).toBe("active");
    expect(converted.billing_cycle_anchor).toBe(start + 14 * DAY);
    expect(converted.items.data[0]?.current_period_start).toBe(start + 14 * DAY);
    expect(converted.items.data[0]?.current_period_end).toBe(Date.UTC(2026, 1, 15) / 1000);
    const invoice = converted.latest_invoice as Stripe.Invoice;
    expect(invoice.amount_paid).toBe(2000);
    expect(invoice.billing_reason).toBe("subscription_cycle");

    const scheduled = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(scheduled.cancel_at_period_end).toBe(true);
    expect(scheduled.cancel_at).toBe(Date.UTC(2026, 1, 15) / 1000);
    expect(scheduled.status).toBe("active");
    const resumed = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(resumed.cancel_at).toBeNull();
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });

    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Date.UTC(2026, 1, 20) / 1000,
    });
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe("canceled");
    expect(ended.ended_at).toBe(Date.UTC(2026, 1, 15) / 1000);
    expect((await invoicesOf(stripe, sub.id)).map((i) => i.billing_reason)).toEqual([
      "subscription_create",
      "subscription_cycle",
    ]);
  });

  it("ends a trial now, and expires incomplete subscriptions after 23 hours", async () => {
    const { stripe } = harness();
    const { month } = await catalog(stripe);
    const start = Date.UTC(2026, 0, 1) / 1000;
    const { clock, customer } = await onClock(stripe, start);
    const trial = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
      trial_end: start + 30 * DAY,
    });
    const ended = await stripe.subscriptions.update(trial.id, { trial_end: "now" });
    expect(ended.status).toBe("active");
    expect(ended.items.data[0]?.current_period_start).toBe(start);
    expect(ended.items.data[0]?.current_period_end).toBe(Date.UTC(2026, 1, 1) / 1000);

    const failing = await stripe.customers.create({
      test_clock: clock.id,
      payment_method: "pm_card_chargeCustomerFail",
    });
    const incomplete = await stripe.subscriptions.create({
      customer: failing.id,
      items: [{ price: month.id }],
    });
    expect(incomplete.status).toBe("incomplete");
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + DAY });
    const expired = await stripe.subscriptions.retrieve(incomplete.id, {
      expand: ["latest_invoice"],
    });
    expect(expired.status).toBe("incomplete_expired");
    expect((expired.latest_invoice as Stripe.Invoice).status).toBe("void");
  });

  it("advances objects that are not on a test clock with advanceClock", async () => {
    const { stripe, emulator } = harness();
    const { month } = await catalog(stripe);
    const customer = await stripe.customers.create({});
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    emulator.advanceClock(32 * DAY);
    const invoices = await invoicesOf(stripe, sub.id);
    expect(invoices).toHaveLength(2);
    expect(invoices[1]?.created).toBe(sub.items.data[0]?.current_period_end);
  });
});
