import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { DAY, harness, rejection } from "./helpers.js";

describe("billing meters", () => {
  it("creates, lists and finds meters by event name", async () => {
    const { stripe } = harness();
    const meter: Stripe.Billing.Meter = await stripe.billing.meters.create({
      display_name: "API calls",
      event_name: "api_calls",
      default_aggregation: { formula: "sum" },
    });
    expect(meter.id).toMatch(/^mtr_/);
    expect(meter.status).toBe("active");
    expect(meter.customer_mapping).toEqual({
      event_payload_key: "stripe_customer_id",
      type: "by_id",
    });
    expect(meter.value_settings).toEqual({ event_payload_key: "value" });
    await stripe.billing.meters.create({
      display_name: "Seats",
      event_name: "seats",
      default_aggregation: { formula: "last" },
    });

    const duplicate = await rejection(
      stripe.billing.meters.create({
        display_name: "Again",
        event_name: "api_calls",
        default_aggregation: { formula: "sum" },
      }),
    );
    expect(duplicate.param).toBe("event_name");

    expect((await stripe.billing.meters.list()).data).toHaveLength(2);
    const byName = await stripe.billing.meters.list({
      event_name: "api_calls",
    } as Stripe.Billing.MeterListParams);
    expect(byName.data.map((m) => m.id)).toEqual([meter.id]);
    expect((await stripe.billing.meters.retrieve(meter.id)).event_name).toBe("api_calls");
    const inactive = await stripe.billing.meters.deactivate(meter.id);
    expect(inactive.status).toBe("inactive");
    expect((await stripe.billing.meters.list({ status: "active" })).data).toHaveLength(1);
    expect((await stripe.billing.meters.reactivate(meter.id)).status).toBe("active");
  });

  it("deduplicates meter events by identifier and summarises usage", async () => {
    const { stripe, emulator } = harness();
    const meter = await stripe.billing.meters.create({
      display_name: "API calls",
      event_name: "api_calls",
      default_aggregation: { formula: "sum" },
    });
    const customer = await stripe.customers.create({});
    const now = emulator.now();
    const hour = now - (now % 3600);
    const send = (identifier: string, value: number, timestamp: number) =>
      stripe.billing.meterEvents.create({
        event_name: "api_calls",
        identifier,
        timestamp,
        payload: { stripe_customer_id: customer.id, value: String(value) },
      });

    const first: Stripe.Billing.MeterEvent = await send("ten_1:api_calls:w1", 10, hour - 3600 + 5);
    expect(first).toMatchObject({
      object: "billing.meter_event",
      identifier: "ten_1:api_calls:w1",
      event_name: "api_calls",
    });
    expect(first.payload).toEqual({ stripe_customer_id: customer.id, value: "10" });

    const dup = await rejection(send("ten_1:api_calls:w1", 10, hour - 3600 + 5));
    expect(dup).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(dup.param).toBe("identifier");
    expect(dup.message).toBe("An event already exists with identifier ten_1:api_calls:w1.");
    expect(dup.headers?.["stripe-should-retry"]).toBe("false");
    expect(emulator.meterEventCount("ten_1:api_calls:w1")).toEqual({ stored: 1, received: 2 });

    // The same identifier sent with the same idempotency key replays instead.
    await stripe.billing.meterEvents.create(
      {
        event_name: "api_calls",
        identifier: "ten_1:api_calls:w2",
        timestamp: hour + 10,
        payload: { stripe_customer_id: customer.id, value: "5" },
      },
      { idempotencyKey: "ten_1:api_calls:w2" },
    );
    await stripe.billing.meterEvents.create(
      {
        event_name: "api_calls",
        identifier: "ten_1:api_calls:w2",
        timestamp: hour + 10,
        payload: { stripe_customer_id: customer.id, value: "5" },
      },
      { idempotencyKey: "ten_1:api_calls:w2" },
    );
    expect(emulator.meterEventCount("ten_1:api_calls:w2")).toEqual({ stored: 1, received: 1 });
    await send("ten_1:api_calls:w3", 7, hour + 20);

    const total = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: hour - 3600,
      end_time: hour + 3600,
    });
    expect(total.data).toHaveLength(1);
    expect(total.data[0]).toMatchObject({
      object: "billing.meter_event_summary",
      aggregated_value: 22,
      meter: meter.id,
    });
    const hourly = await stripe.billing.meters.listEventSummaries(meter.id, {
      customer: customer.id,
      start_time: hour - 3600,
      end_time: hour + 3600,
      value_grouping_window: "hour",
    });
    expect(hourly.data.map((s) => [s.start_time, s.aggregated_value])).toEqual([
      [hour - 3600, 10],
      [hour, 12],
    ]);
    const misaligned = await rejection(
      stripe.billing.meters.listEventSummaries(meter.id, {
        customer: customer.id,
        start_time: hour + 1,
        end_time: hour + 3600,
      }),
    );
    expect(misaligned.param).toBe("start_time");

    const tooOld = await rejection(send("old", 1, now - 40 * DAY));
    expect(tooOld.param).toBe("timestamp");
    const missingCustomer = await rejection(
      stripe.billing.meterEvents.create({ event_name: "api_calls", payload: { value: "1" } }),
    );
    expect(missingCustomer.param).toBe("payload[stripe_customer_id]");

    // The identifier window is 24 hours: afterwards the identifier is accepted again.
    emulator.advanceClock(DAY + 1);
    await send("ten_1:api_calls:w1", 1, emulator.now());
    expect(emulator.meterEventCount("ten_1:api_calls:w1")).toEqual({ stored: 2, received: 3 });
  });

  it("bills metered usage in arrears at renewal", async () => {
    const { stripe } = harness();
    const meter = await stripe.billing.meters.create({
      display_name: "API calls",
      event_name: "api_calls",
      default_aggregation: { formula: "sum" },
    });
    const base = await stripe.prices.create({
      product_data: { name: "Pro" },
      currency: "usd",
      unit_amount: 2000,
      recurring: { interval: "month" },
    });
    const usage = await stripe.prices.create({
      product_data: { name: "API calls" },
      currency: "usd",
      unit_amount_decimal: Stripe.Decimal.from("0.5"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const start = Date.UTC(2026, 0, 1) / 1000;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
    const customer = await stripe.customers.create({ test_clock: clock.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: base.id }, { price: usage.id }],
    });
    expect(sub.items.data.find((i) => i.price.id === usage.id)?.quantity).toBeUndefined();
    // Usage is reported as it happens, so the clock moves first (timestamps may not be in the future).
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 3 * DAY });
    for (const [i, value] of [120, 80].entries()) {
      await stripe.billing.meterEvents.create({
        event_name: "api_calls",
        identifier: `u${i}`,
        timestamp: start + (i + 1) * DAY,
        payload: { stripe_customer_id: customer.id, value: String(value) },
      });
    }
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Date.UTC(2026, 1, 1, 1) / 1000,
    });
    const renewal = await stripe.invoices.retrieve(
      (await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string,
    );
    const usageLine = renewal.lines.data.find((l) => l.pricing?.price_details?.price === usage.id);
    expect(usageLine?.quantity).toBe(200);
    expect(usageLine?.amount).toBe(100);
    expect(usageLine?.period).toEqual({ start, end: Date.UTC(2026, 1, 1) / 1000 });
    expect(renewal.amount_paid).toBe(2100);
  });
});
