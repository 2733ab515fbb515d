import { readFile, rm, writeFile } from "node:fs/promises";
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { createStripeEmulator, type EmulatorSnapshot } from "../src/index.js";
import { startStripeEmulatorServer } from "../src/server.js";
import { catalog, DAY, harness, webhookSink } from "./helpers.js";

function sdk(fetcher: typeof fetch): Stripe {
  return new Stripe("sk_test_persist", {
    httpClient: Stripe.createFetchHttpClient(fetcher),
    maxNetworkRetries: 0,
  });
}

describe("snapshots", () => {
  it("resume the same objects, creation order and numbering, and queued webhooks once", async () => {
    const first = webhookSink();
    const { emulator, stripe } = harness({ webhooks: { fetch: first.fetch } });
    emulator.addWebhookEndpoint({ url: "https://hooks.localhost/stripe", secret: "whsec_p" });
    const { month } = await catalog(stripe);
    const customer = await stripe.customers.create({
      email: "keep@acme.test",
      payment_method: "pm_card_visa",
      metadata: { tenant_id: "ten_keep" },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: "usd" });
    // Half the events went out before the restart, the rest are still queued.
    await emulator.deliverPending();
    await stripe.customers.update(customer.id, { metadata: { plan: "pro" } });
    const queued = emulator.pendingDeliveries();
    expect(queued).toBe(1);

    // Through JSON, as the state file stores it.
    const saved = JSON.parse(JSON.stringify(emulator.snapshot())) as EmulatorSnapshot;
    const second = webhookSink();
    const restored = createStripeEmulator({
      seed: 1,
      snapshot: saved,
      webhooks: { fetch: second.fetch },
    });
    const again = sdk(restored.fetch);

    expect(await again.customers.retrieve(customer.id)).toEqual(
      await stripe.customers.retrieve(customer.id),
    );
    expect(await again.subscriptions.retrieve(sub.id)).toEqual(
      await stripe.subscriptions.retrieve(sub.id),
    );
    const before = (await stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    expect((await again.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual(before);

    // Queued deliveries go out once, and nothing already delivered is sent again.
    expect(restored.pendingDeliveries()).toBe(queued);
    const report = await restored.deliverPending();
    expect(report.delivered).toBe(1);
    expect(second.received.map((h) => JSON.parse(h.body).type)).toEqual(["customer.updated"]);

    // New objects list first; invoice numbers continue the customer's sequence.
    const newer = await again.customers.create({ email: "new@acme.test" });
    const listed = await again.customers.list({ limit: 2 });
    expect(listed.data.map((c) => c.id)).toEqual([newer.id, customer.id]);
    restored.advanceClock(32 * DAY);
    const renewed = await again.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    const invoice = renewed.latest_invoice as Stripe.Invoice;
    expect(invoice.number).toMatch(/-0002$/);
    // The pending invoice item was picked up by the renewal.
    expect(invoice.total).toBe(2000 + 500);
    expect(invoice.status).toBe("paid");
  });

  it("refuses a snapshot of another version", () => {
    const snapshot = {
      ...createStripeEmulator().snapshot(),
      version: 99,
    } as unknown as EmulatorSnapshot;
    expect(() => createStripeEmulator({ snapshot })).toThrow(/version 99/);
  });
});

describe("standalone server state file", () => {
  const path = `/tmp/stripe-emulator-test-${crypto.randomUUID()}/state.json`;
  afterEach(async () => {
    await rm(path, { force: true });
  });

  it("keeps customers and subscriptions across restarts, and reset empties it", async () => {
    const one = await startStripeEmulatorServer({ port: 0, statePath: path });
    const stripe = sdk(one.emulator.fetch);
    const { month } = await catalog(stripe);
    const customer = await stripe.customers.create({ metadata: { tenant_id: "ten_restart" } });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: month.id }],
    });
    one.emulator.addWebhookEndpoint({
      url: "http://127.0.0.1:9/hook",
      secret: "whsec_a",
      replace: true,
    });
    await one.close();

    const two = await startStripeEmulatorServer({ port: 0, statePath: path });
    const after = sdk(two.emulator.fetch);
    expect((await after.subscriptions.retrieve(sub.id)).status).toBe("active");
    expect(await after.customers.retrieve(customer.id)).toMatchObject({
      metadata: { tenant_id: "ten_restart" },
    });
    // Registering the server's endpoint again on start updates it instead of adding a twin.
    two.emulator.addWebhookEndpoint({
      url: "http://127.0.0.1:9/hook",
      secret: "whsec_b",
      replace: true,
    });
    expect((await after.webhookEndpoints.list()).data).toHaveLength(1);

    const reset = await two.emulator.fetch("http://127.0.0.1/_emulator/reset", {
      method: "POST",
      headers: { Authorization: "Bearer sk_test_reset" },
    });
    expect(reset.status).toBe(200);
    await two.close();
    const file = JSON.parse(await readFile(path, "utf8")) as EmulatorSnapshot;
    expect(file.maps.customers).toEqual([]);
  });

  it("refuses to start from a corrupt file rather than forget it", async () => {
    const one = await startStripeEmulatorServer({ port: 0, statePath: path });
    await sdk(one.emulator.fetch).customers.create({});
    await one.close();
    await writeFile(path, "{not json");
    await expect(startStripeEmulatorServer({ port: 0, statePath: path })).rejects.toThrow(
      /not valid JSON/,
    );
  });
});
