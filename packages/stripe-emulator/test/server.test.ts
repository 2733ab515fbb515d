import { createServer } from "node:http";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatorServer, startStripeEmulatorServer } from "../src/server.js";
import { rejection } from "./helpers.js";

/** A loopback receiver standing in for the webhooks worker. */
function receiver() {
  const bodies: { body: string; signature: string }[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const signature = req.headers["stripe-signature"];
      bodies.push({
        body: new TextDecoder().decode(await new Blob(chunks).arrayBuffer()),
        signature: typeof signature === "string" ? signature : "",
      });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
    })();
  });
  return new Promise<{ url: string; bodies: typeof bodies; close: () => Promise<void> }>(
    (resolve) => {
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : 0;
        resolve({
          url: `http://127.0.0.1:${port}/stripe/webhook`,
          bodies,
          close: () => new Promise((done) => server.close(() => done())),
        });
      });
    },
  );
}

describe("standalone server over loopback HTTP", () => {
  let server: EmulatorServer;
  let stripe: Stripe;

  beforeAll(async () => {
    server = await startStripeEmulatorServer({ port: 0, webhooks: { initialDelayMs: 10 } });
    // The SDK's default Node HTTP client, pointed at the emulator.
    stripe = new Stripe("sk_test_loopback", {
      host: "127.0.0.1",
      port: server.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it("serves the API to the SDK and refuses non-test keys", async () => {
    const customer: Stripe.Customer = await stripe.customers.create(
      { email: "http@acme.test", metadata: { tenant_id: "ten_http" } },
      { idempotencyKey: "http-1" },
    );
    expect(customer.id).toMatch(/^cus_/);
    const replay = await stripe.customers.create(
      { email: "http@acme.test", metadata: { tenant_id: "ten_http" } },
      { idempotencyKey: "http-1" },
    );
    expect(replay.id).toBe(customer.id);
    expect(replay.lastResponse.headers["idempotent-replayed"]).toBe("true");

    const live = new Stripe("rk_live_123", {
      host: "127.0.0.1",
      port: server.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const error = await rejection(live.customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
  });

  it("completes hosted checkout over HTTP and delivers signed webhooks on its own", async () => {
    const hooks = await receiver();
    try {
      const endpoint = await stripe.webhookEndpoints.create({
        url: hooks.url,
        enabled_events: ["checkout.session.completed"],
      });
      const price = await stripe.prices.create({
        product_data: { name: "Pro" },
        currency: "usd",
        unit_amount: 2000,
        recurring: { interval: "month" },
      });
      const session = await stripe.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: price.id, quantity: 1 }],
        success_url: "http://acme.localhost:8787/billing?session={CHECKOUT_SESSION_ID}",
      });
      expect(session.url).toBe(`${server.url}/checkout/${session.id}`);
      const page = await fetch(session.url as string);
      expect(await page.text()).toContain('value="pay"');
      const paid = await fetch(session.url as string, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "action=pay&email=http%40acme.test",
        redirect: "manual",
      });
      expect(paid.status).toBe(303);
      expect(paid.headers.get("Location")).toBe(
        `http://acme.localhost:8787/billing?session=${session.id}`,
      );

      const deadline = Date.now() + 5000;
      while (hooks.bodies.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const hook = hooks.bodies[0];
      if (!hook) throw new Error("no webhook arrived");
      const event = await stripe.webhooks.constructEventAsync(
        hook.body,
        hook.signature,
        endpoint.secret as string,
      );
      expect(event.type).toBe("checkout.session.completed");
      expect((event.data.object as Stripe.Checkout.Session).id).toBe(session.id);
    } finally {
      await hooks.close();
    }
  });
});
