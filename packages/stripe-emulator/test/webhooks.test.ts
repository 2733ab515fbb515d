import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { StripeEmulatorOptions } from "../src/index.js";
import { catalog, harness, rejection, webhookSink } from "./helpers.js";

const verifier = new Stripe("sk_test_verifier");

function withSink(options: StripeEmulatorOptions, respond?: Parameters<typeof webhookSink>[0]) {
  const sink = webhookSink(respond);
  const h = harness({ ...options, webhooks: { ...options.webhooks, fetch: sink.fetch } });
  return { ...h, sink };
}

async function lifecycle(stripe: Stripe): Promise<void> {
  const { month, year } = await catalog(stripe);
  const customer = await stripe.customers.create({ email: "w@acme.test" });
  const sub = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: month.id }],
  });
  await stripe.subscriptions.update(sub.id, {
    items: [{ id: sub.items.data[0]?.id, price: year.id }],
  });
  await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
}

describe("webhook delivery", () => {
  it("signs every delivery like Stripe, verified by the SDK", async () => {
    const { stripe, emulator, sink } = withSink({});
    const endpoint: Stripe.WebhookEndpoint = await stripe.webhookEndpoints.create({
      url: "https://webhooks.localhost/stripe/webhook",
      enabled_events: [
        "customer.created",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.paid",
      ],
    });
    expect(endpoint.id).toMatch(/^we_/);
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();

    await lifecycle(stripe);
    expect(sink.received).toHaveLength(0); // nothing leaves before deliverPending()
    expect(emulator.pendingDeliveries()).toBe(6);
    const report = await emulator.deliverPending();
    expect(report).toEqual({
      attempts: sink.received.length,
      delivered: sink.received.length,
      failed: 0,
      dropped: 0,
    });

    const events: Stripe.Event[] = [];
    for (const hook of sink.received) {
      expect(hook.url).toBe("https://webhooks.localhost/stripe/webhook");
      expect(hook.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      events.push(
        await verifier.webhooks.constructEventAsync(
          hook.body,
          hook.signature,
          endpoint.secret as string,
          300,
        ),
      );
    }
    // The switch to a yearly price invoices at once; the update event follows its invoice.
    expect(events.map((e) => e.type)).toEqual([
      "customer.created",
      "customer.subscription.created",
      "invoice.paid",
      "invoice.paid",
      "customer.subscription.updated",
      "customer.subscription.updated",
    ]);
    const created = events[1] as Stripe.CustomerSubscriptionCreatedEvent;
    expect(created.data.object.status).toBe("active");
    expect(created.api_version).toBe("2026-10-28.endive");
    expect(created.request?.id).toMatch(/^req_/);
    const canceled = events[5] as Stripe.CustomerSubscriptionUpdatedEvent;
    expect(canceled.data.object.cancel_at_period_end).toBe(true);
    expect(canceled.data.previous_attributes?.cancel_at_period_end).toBe(false);

    const first = sink.received[0];
    if (!first) throw new Error("no delivery");
    const wrongSecret = await rejection(
      verifier.webhooks.constructEventAsync(first.body, first.signature, "whsec_wrong"),
    );
    expect(wrongSecret).toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
    const tampered = await rejection(
      verifier.webhooks.constructEventAsync(
        first.body.replace("customer", "kustomer"),
        first.signature,
        endpoint.secret as string,
      ),
    );
    expect(tampered).toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);

    const stored = await stripe.events.retrieve(events[0]?.id ?? "");
    expect(stored.pending_webhooks).toBe(0);
    expect((await stripe.events.list({ type: "customer.subscription.*" })).data.length).toBe(3);
    expect(
      (await stripe.events.list({ types: ["invoice.paid", "customer.created"] })).data.length,
    ).toBe(3);
  });

  it("retries non-2xx answers with backoff and gives up after maxAttempts", async () => {
    const failures = new Map<string, number>();
    const { stripe, emulator, sink } = withSink({ webhooks: { maxAttempts: 3 } }, (hook) => {
      const id = (JSON.parse(hook.body) as { id: string }).id;
      const seen = (failures.get(id) ?? 0) + 1;
      failures.set(id, seen);
      if (JSON.parse(hook.body).type === "product.created") return 500;
      return seen < 3 ? 503 : 200;
    });
    const { secret } = emulator.addWebhookEndpoint({
      url: "https://hooks.localhost/x",
      enabledEvents: ["customer.created", "product.created"],
    });
    await stripe.customers.create({ email: "r@acme.test" });
    await stripe.products.create({ name: "Always failing" });
    const report = await emulator.deliverPending();
    expect(report).toEqual({ attempts: 6, delivered: 1, failed: 1, dropped: 0 });
    expect(emulator.deliveries.map((d) => [d.eventType, d.attempt, d.status])).toEqual([
      ["customer.created", 1, 503],
      ["product.created", 1, 500],
      ["customer.created", 2, 503],
      ["product.created", 2, 500],
      ["customer.created", 3, 200],
      ["product.created", 3, 500],
    ]);
    for (const hook of sink.received)
      await verifier.webhooks.constructEventAsync(hook.body, hook.signature, secret);
    const undelivered = await stripe.events.list({ delivery_success: false });
    expect(undelivered.data.map((e) => e.type)).toEqual(["product.created"]);
    expect(undelivered.data[0]?.pending_webhooks).toBe(1);
  });

  it("duplicates and reorders deliveries reproducibly from a seed", async () => {
    async function run(seed: number) {
      const { stripe, emulator, sink } = withSink({
        seed,
        chaos: { duplicateRate: 0.5, reorderWindowMs: 1000 },
      });
      emulator.addWebhookEndpoint({ url: "https://hooks.localhost/x" });
      await lifecycle(stripe);
      await emulator.deliverPending();
      const created = (await stripe.events.list({ limit: 100 })).data.reverse().map((e) => e.id);
      const delivered = sink.received.map((h) => (JSON.parse(h.body) as { id: string }).id);
      return { created, delivered, order: delivered.map((id) => created.indexOf(id)) };
    }
    const a = await run(7);
    expect(new Set(a.delivered)).toEqual(new Set(a.created)); // every event arrives
    expect(a.delivered.length).toBeGreaterThan(a.created.length); // some twice
    expect(a.order).not.toEqual([...a.order].sort((x, y) => x - y)); // not in creation order
    const b = await run(7);
    expect(b.order).toEqual(a.order);
    const c = await run(8);
    expect(c.order).not.toEqual(a.order);
  });

  it("drops first attempts and redelivers them later", async () => {
    const { stripe, emulator, sink } = withSink({ seed: 3, chaos: { dropRate: 1 } });
    emulator.addWebhookEndpoint({
      url: "https://hooks.localhost/x",
      enabledEvents: ["customer.created"],
    });
    await stripe.customers.create({});
    await stripe.customers.create({});
    const report = await emulator.deliverPending();
    expect(report).toMatchObject({ dropped: 2, delivered: 2, attempts: 2 });
    expect(sink.received).toHaveLength(2);
    expect(emulator.deliveries.map((d) => d.dropped)).toEqual([true, true, false, false]);

    emulator.setChaos({ dropRate: 0, delayMs: [0, 5000] }, 11);
    await stripe.customers.create({});
    expect((await emulator.deliverPending()).delivered).toBe(1);
  });
});
