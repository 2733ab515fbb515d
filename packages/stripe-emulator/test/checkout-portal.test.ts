import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { StripeEmulator } from "../src/index.js";
import { catalog, harness } from "./helpers.js";

/** Submits the hosted page's form the way a browser would (no JavaScript involved). */
async function submit(
  emulator: StripeEmulator,
  pageUrl: string,
  fields: Record<string, string>,
  formIndex = 0,
): Promise<Response> {
  const page = await emulator.fetch(pageUrl);
  expect(page.status).toBe(200);
  expect(page.headers.get("Content-Type")).toContain("text/html");
  const html = await page.text();
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)];
  const form = forms[formIndex];
  if (!form) throw new Error(`no form #${formIndex} on ${pageUrl}`);
  const body = new URLSearchParams();
  for (const hidden of (form[2] ?? "").matchAll(
    /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
  )) {
    body.set(hidden[1] ?? "", hidden[2] ?? "");
  }
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  return emulator.fetch(new URL(form[1] ?? "", pageUrl).toString(), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString(),
    redirect: "manual",
  });
}

describe("checkout sessions", () => {
  it("completes through the hosted page and redirects to success_url", async () => {
    const { stripe, emulator } = harness({ baseUrl: "http://localhost:12111" });
    const { month } = await catalog(stripe);
    const session: Stripe.Checkout.Session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: month.id, quantity: 1 }],
      success_url: "https://acme.localhost/billing/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://acme.localhost/billing",
      client_reference_id: "ten_123",
      metadata: { tenant_id: "ten_123" },
      subscription_data: { metadata: { tenant_id: "ten_123" } },
      customer_email: "owner@acme.test",
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.status).toBe("open");
    expect(session.payment_status).toBe("unpaid");
    expect(session.url).toBe(`http://localhost:12111/checkout/${session.id}`);
    expect(session.amount_total).toBe(2000);
    expect(session.customer).toBeNull();

    const declined = await submit(emulator, session.url as string, { action: "decline" });
    expect(declined.status).toBe(303);
    const afterDecline = await (await emulator.fetch(session.url as string)).text();
    expect(afterDecline).toContain("Your card was declined.");
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");

    const paid = await submit(emulator, session.url as string, {
      action: "pay",
      email: "owner@acme.test",
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("Location")).toBe(
      `https://acme.localhost/billing/success?session_id=${session.id}`,
    );

    const done = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription", "line_items"],
    });
    expect(done.status).toBe("complete");
    expect(done.payment_status).toBe("paid");
    expect(done.url).toBeNull();
    expect(done.line_items?.data[0]?.price?.id).toBe(month.id);
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe("active");
    expect(sub.metadata).toEqual({ tenant_id: "ten_123" });
    expect(sub.customer).toBe(done.customer);
    expect(typeof sub.default_payment_method).toBe("string");
    const customer = await stripe.customers.retrieve(done.customer as string);
    if (!customer.deleted) expect(customer.email).toBe("owner@acme.test");

    const completed = await stripe.events.list({ type: "checkout.session.completed" });
    expect(
      (completed.data[0]?.data.object as Stripe.Checkout.Session | undefined)?.client_reference_id,
    ).toBe("ten_123");
    const listed = await stripe.checkout.sessions.list({ customer: done.customer as string });
    expect(listed.data.map((s) => s.id)).toEqual([session.id]);
    const lineItems = await stripe.checkout.sessions.listLineItems(session.id);
    expect(lineItems.data[0]?.amount_total).toBe(2000);

    const again = await submit(emulator, session.url as string, { action: "pay" }).catch(
      () => null,
    );
    expect(again).toBeNull(); // the completed page has no form any more
  });

  it("starts trials, reuses an existing customer, and expires sessions", async () => {
    const { stripe, emulator } = harness();
    const { month } = await catalog(stripe);
    const customer = await stripe.customers.create({ email: "t@acme.test" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: month.id, quantity: 1 }],
      subscription_data: { trial_period_days: 7 },
      success_url: "https://acme.localhost/ok",
    });
    expect(session.amount_total).toBe(0);
    const response = await submit(emulator, session.url as string, { action: "pay" });
    expect(response.headers.get("Location")).toBe("https://acme.localhost/ok");
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.payment_status).toBe("no_payment_required");
    expect(done.customer).toBe(customer.id);
    expect((await stripe.subscriptions.retrieve(done.subscription as string)).status).toBe(
      "trialing",
    );

    const other = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: month.id, quantity: 1 }],
      success_url: "https://acme.localhost/ok",
    });
    const expired = await stripe.checkout.sessions.expire(other.id);
    expect(expired.status).toBe("expired");
    expect((await stripe.events.list({ type: "checkout.session.expired" })).data).toHaveLength(1);

    const timedOut = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: month.id, quantity: 1 }],
      success_url: "https://acme.localhost/ok",
    });
    emulator.advanceClock(86_400 + 1);
    expect((await stripe.checkout.sessions.retrieve(timedOut.id)).status).toBe("expired");
  });
});

describe("billing portal", () => {
  it("changes plan and cancels at period end from the hosted page", async () => {
    const { stripe, emulator } = harness();
    const pro = await catalog(stripe, "pro", 2000);
    const business = await catalog(stripe, "business", 5000);
    const customer = await stripe.customers.create({ email: "p@acme.test" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: pro.month.id }],
    });

    const portal: Stripe.BillingPortal.Session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://acme.localhost/settings/billing",
    });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal.url).toMatch(new RegExp(`/portal/${portal.id}$`));
    expect(portal.return_url).toBe("https://acme.localhost/settings/billing");

    const page = await (await emulator.fetch(portal.url)).text();
    expect(page).toContain("https://acme.localhost/settings/billing");
    expect(page).toContain(business.month.id);

    const switched = await submit(
      emulator,
      portal.url,
      { action: "switch", price: business.month.id },
      0,
    );
    expect(switched.status).toBe(303);
    const afterSwitch = await stripe.subscriptions.retrieve(sub.id);
    expect(afterSwitch.items.data[0]?.price.id).toBe(business.month.id);

    const canceled = await submit(emulator, portal.url, { action: "cancel" }, 1);
    expect(canceled.status).toBe(303);
    const afterCancel = await stripe.subscriptions.retrieve(sub.id);
    expect(afterCancel.cancel_at_period_end).toBe(true);
    expect(afterCancel.status).toBe("active");
    expect(await (await emulator.fetch(portal.url)).text()).toContain("Renew plan");
  });
});
