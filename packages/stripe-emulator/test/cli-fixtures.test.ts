// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${name:path}` is the CLI fixtures' own reference syntax.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { type FixtureStep, replayFixture } from "./cli-fixture.js";
import { harness } from "./helpers.js";

// Request sequences of the Stripe CLI's trigger fixtures (stripe/stripe-cli,
// pkg/fixtures/triggers/<event>.json), step for step.
const CLI = "(created by Stripe CLI)";

const customer = (params: Record<string, unknown> = {}): FixtureStep => ({
  name: "customer",
  path: "/v1/customers",
  method: "post",
  params: { description: CLI, ...params },
});
const customerWithVisa = customer({
  payment_method: "pm_card_visa",
  invoice_settings: { default_payment_method: "pm_card_visa" },
});
const product: FixtureStep = {
  name: "product",
  path: "/v1/products",
  method: "post",
  params: { name: "myproduct", description: CLI },
};
const monthlyPrice: FixtureStep = {
  name: "price",
  path: "/v1/prices",
  method: "post",
  params: {
    product: "${product:id}",
    unit_amount: "1500",
    currency: "usd",
    "recurring[interval]": "month",
  },
};
const oneTimePrice: FixtureStep = {
  name: "price",
  path: "/v1/prices",
  method: "post",
  params: { product: "${product:id}", unit_amount: "1500", currency: "usd" },
};
const subscription = (extra: Record<string, unknown> = {}): FixtureStep => ({
  name: "subscription",
  path: "/v1/subscriptions",
  method: "post",
  params: { customer: "${customer:id}", items: [{ price: "${price:id}" }], ...extra },
});
const invoiceItem: FixtureStep = {
  name: "invoiceitem",
  path: "/v1/invoiceitems",
  method: "post",
  params: { amount: 2000, currency: "usd", customer: "${customer:id}", description: CLI },
};
const invoice: FixtureStep = {
  name: "invoice",
  path: "/v1/invoices",
  method: "post",
  params: {
    customer: "${customer:id}",
    description: CLI,
    pending_invoice_items_behavior: "include",
  },
};
const invoiceAction = (name: string, action: string): FixtureStep => ({
  name,
  path: `/v1/invoices/\${invoice:id}/${action}`,
  method: "post",
});
const attach = (name: string, pm: string): FixtureStep => ({
  name,
  path: `/v1/payment_methods/${pm}/attach`,
  method: "post",
  params: { customer: "${customer:id}" },
});
const invoicePay: FixtureStep = {
  name: "invoice_pay",
  path: "/v1/invoices/${invoice:id}/pay",
  method: "post",
  params: { payment_method: "${payment_method:id}" },
};
/** subscription.payment_succeeded / subscription.payment_failed */
const subscriptionPayment = (token: string): FixtureStep[] => [
  {
    name: "payment_method",
    path: "/v1/payment_methods",
    method: "post",
    params: { type: "card", card: { token } },
  },
  customer({ name: "SubscriptionTestCustomer" }),
  attach("attach_payment_method", "${payment_method:id}"),
  {
    name: "default_payment_method",
    path: "/v1/customers/${customer:id}",
    method: "post",
    params: { invoice_settings: { default_payment_method: "${payment_method:id}" } },
  },
  {
    name: "product",
    path: "/v1/products",
    method: "post",
    params: { name: "SubscriptionTestProduct", description: CLI },
  },
  {
    name: "price",
    path: "/v1/prices",
    method: "post",
    params: {
      nickname: "SubscriptionTestPrice",
      product: "${product:id}",
      unit_amount: 2000,
      currency: "usd",
      recurring: { interval: "month" },
    },
  },
  subscription(),
  {
    name: "invoice",
    path: "/v1/invoices/${subscription:latest_invoice}",
    method: "get",
    params: {},
  },
];
const address = {
  line1: "510 Townsend St",
  postal_code: "94103",
  city: "San Francisco",
  state: "CA",
  country: "US",
};
const checkoutSession = (extra: Record<string, unknown> = {}): FixtureStep => ({
  name: "checkout_session",
  path: "/v1/checkout/sessions",
  method: "post",
  params: {
    success_url: "https://httpbin.org/post",
    cancel_url: "https://httpbin.org/post",
    mode: "payment",
    line_items: [{ price: "${price:id}", quantity: 2 }],
    ...extra,
  },
});

async function replay(steps: FixtureStep[]) {
  const h = harness();
  const result = await replayFixture(h.emulator, steps);
  const events = await h.stripe.events.list({ limit: 100 });
  const types = events.data.map((e) => e.type).reverse();
  /** The response of one fixture step. */
  const step = (name: string) => {
    const response = result.responses[name];
    if (response === undefined) throw new Error(`no step ${name}`);
    return response as { id: string } & Record<string, unknown>;
  };
  return { ...h, ...result, step, types };
}

describe("stripe trigger fixtures replayed against the emulator", () => {
  it("customer.subscription.created: a customer created with pm_card_visa subscribes", async () => {
    const r = await replay([customerWithVisa, product, monthlyPrice, subscription()]);
    const cus = await r.stripe.customers.retrieve(r.step("customer").id);
    const pmId = (cus as Stripe.Customer).invoice_settings.default_payment_method as string;
    expect(pmId).toMatch(/^pm_/);
    expect(pmId).not.toBe("pm_card_visa");
    const pm = await r.stripe.paymentMethods.retrieve(pmId);
    expect(pm).toMatchObject({
      customer: cus.id,
      type: "card",
      card: { brand: "visa", last4: "4242" },
    });
    expect(r.step("subscription").status).toBe("active");
    expect(r.types).toEqual([
      "customer.created",
      "payment_method.attached",
      "product.created",
      "price.created",
      "customer.subscription.created",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
  });

  it("customer.subscription.updated and .deleted", async () => {
    const base = [customerWithVisa, product, monthlyPrice, subscription()];
    const updated = await replay([
      ...base,
      {
        name: "subscription_updated",
        path: "/v1/subscriptions/${subscription:id}",
        method: "post",
        params: { metadata: { foo: "bar" } },
      },
    ]);
    expect(updated.step("subscription_updated").metadata).toEqual({ foo: "bar" });
    expect(updated.types.at(-1)).toBe("customer.subscription.updated");

    const deleted = await replay([
      ...base,
      {
        name: "subscription_deleted",
        path: "/v1/subscriptions/${subscription:id}",
        method: "delete",
      },
    ]);
    expect(deleted.step("subscription_deleted").status).toBe("canceled");
    expect(deleted.types.at(-1)).toBe("customer.subscription.deleted");
  });

  it("customer.subscription.trial_will_end: a one-day trial warns at once", async () => {
    const r = await replay([
      customer(),
      product,
      monthlyPrice,
      subscription({ trial_period_days: 1 }),
    ]);
    expect(r.step("subscription").status).toBe("trialing");
    expect(r.types).toContain("customer.subscription.trial_will_end");
  });

  it("invoice.created / invoice.finalized: a pending invoice item lands on a one-off invoice", async () => {
    const created = await replay([customer(), invoiceItem, invoice]);
    expect(created.step("invoiceitem")).toMatchObject({
      object: "invoiceitem",
      amount: 2000,
      invoice: null,
    });
    expect(created.step("invoice")).toMatchObject({
      status: "draft",
      amount_due: 2000,
      description: CLI,
      parent: null,
      billing_reason: "manual",
      auto_advance: false,
    });
    const item = await created.stripe.invoiceItems.retrieve(created.step("invoiceitem").id);
    expect(item.invoice).toBe(created.step("invoice").id);
    expect(created.types).toEqual(["customer.created", "invoiceitem.created", "invoice.created"]);

    const finalized = await replay([
      customer(),
      invoiceItem,
      invoice,
      invoiceAction("invoice_finalized", "finalize"),
    ]);
    expect(finalized.step("invoice_finalized")).toMatchObject({ status: "open", amount_due: 2000 });
    expect(finalized.step("invoice_finalized").number).toMatch(/-0001$/);
    expect(finalized.types.at(-1)).toBe("invoice.finalized");
  });

  it("invoice.updated, invoice.voided, invoice.marked_uncollectible, invoice.deleted", async () => {
    const base = [customer(), invoiceItem, invoice];
    const updated = await replay([
      ...base,
      {
        name: "invoice_updated",
        path: "/v1/invoices/${invoice:id}",
        method: "post",
        params: { metadata: { foo: "bar" } },
      },
    ]);
    expect(updated.step("invoice_updated").metadata).toEqual({ foo: "bar" });
    expect(updated.types.at(-1)).toBe("invoice.updated");

    const voided = await replay([
      ...base,
      invoiceAction("invoice_finalize", "finalize"),
      invoiceAction("invoice_void", "void"),
    ]);
    expect(voided.step("invoice_void").status).toBe("void");
    expect(voided.types.slice(-2)).toEqual(["invoice.finalized", "invoice.voided"]);

    const uncollectible = await replay([
      ...base,
      invoiceAction("invoice_finalize", "finalize"),
      invoiceAction("invoice_mark_uncollectible", "mark_uncollectible"),
    ]);
    expect(uncollectible.step("invoice_mark_uncollectible").status).toBe("uncollectible");

    const deleted = await replay([
      ...base,
      { name: "invoice_delete", path: "/v1/invoices/${invoice:id}", method: "delete" },
    ]);
    expect(deleted.step("invoice_delete")).toMatchObject({ deleted: true });
    expect(deleted.types.at(-1)).toBe("invoice.deleted");
    // The item is pending again, for the customer's next invoice.
    const items = await deleted.stripe.invoiceItems.list({ pending: true });
    expect(items.data.map((i) => i.id)).toEqual([deleted.step("invoiceitem").id]);
  });

  it("invoice.paid: pays a draft with the attached pm_card_visa", async () => {
    const r = await replay([
      customer(),
      attach("payment_method", "pm_card_visa"),
      invoiceItem,
      invoice,
      invoicePay,
    ]);
    expect(r.step("invoice_pay")).toMatchObject({ status: "paid", amount_paid: 2000 });
    expect(r.types).toEqual([
      "customer.created",
      "payment_method.attached",
      "invoiceitem.created",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
  });

  it("invoice.payment_failed: pm_card_chargeCustomerFail attaches, then the charge is a card_error", async () => {
    const r = await replay([
      customer(),
      attach("payment_method", "pm_card_chargeCustomerFail"),
      invoiceItem,
      invoice,
      { ...invoicePay, expected_error_type: "card_error" },
    ]);
    expect(r.statuses.payment_method).toBe(200);
    expect(r.statuses.invoice_pay).toBe(402);
    const inv = await r.stripe.invoices.retrieve(r.step("invoice").id);
    expect(inv).toMatchObject({ status: "open", attempted: true, attempt_count: 1 });
    expect(r.types.slice(-2)).toEqual(["invoice.finalized", "invoice.payment_failed"]);
  });

  it("subscription.payment_succeeded / subscription.payment_failed: tok_ cards as the customer's default", async () => {
    const ok = await replay(subscriptionPayment("tok_visa"));
    expect(ok.step("subscription").status).toBe("active");
    expect(ok.step("invoice")).toMatchObject({ status: "paid", amount_paid: 2000 });

    const failed = await replay(subscriptionPayment("tok_chargeCustomerFail"));
    expect(failed.step("subscription").status).toBe("incomplete");
    expect(failed.step("invoice")).toMatchObject({ status: "open", attempt_count: 1 });
    expect(failed.types).toContain("invoice.payment_failed");
  });

  it("a renewal charged to pm_card_chargeCustomerFail makes the subscription past_due", async () => {
    const r = await replay([customerWithVisa, product, monthlyPrice, subscription()]);
    const failing = await r.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: r.step("customer").id,
    });
    await r.stripe.customers.update(r.step("customer").id, {
      invoice_settings: { default_payment_method: failing.id },
    });
    r.emulator.advanceClock(32 * 86_400);
    const sub = await r.stripe.subscriptions.retrieve(r.step("subscription").id);
    expect(sub.status).toBe("past_due");
    const types = (await r.stripe.events.list({ limit: 100 })).data.map((e) => e.type);
    expect(types).toContain("invoice.payment_failed");
  });

  it("payment_method.attached / payment_method.detached, and the default is unset on detach", async () => {
    const r = await replay([
      customer(),
      attach("payment_method_attach", "pm_card_visa"),
      {
        name: "payment_method_detach",
        path: "/v1/payment_methods/${payment_method_attach:id}/detach",
        method: "post",
      },
    ]);
    expect(r.step("payment_method_attach").customer).toBe(r.step("customer").id);
    expect(r.step("payment_method_detach").customer).toBeNull();
    expect(r.types).toEqual([
      "customer.created",
      "payment_method.attached",
      "payment_method.detached",
    ]);

    const mastercard = await r.stripe.paymentMethods.attach("pm_card_mastercard", {
      customer: r.step("customer").id,
    });
    expect(mastercard.card).toMatchObject({ brand: "mastercard", last4: "4444" });
    await r.stripe.customers.update(r.step("customer").id, {
      invoice_settings: { default_payment_method: mastercard.id },
    });
    await r.stripe.paymentMethods.detach(mastercard.id);
    const cus = (await r.stripe.customers.retrieve(r.step("customer").id)) as Stripe.Customer;
    expect(cus.invoice_settings.default_payment_method).toBeNull();
    const listed = await r.stripe.customers.listPaymentMethods(r.step("customer").id);
    expect(listed.data).toEqual([]);
  });

  it("pm_card_chargeDeclined is refused at attach; unknown payment methods are missing", async () => {
    const { stripe } = harness();
    const cus = await stripe.customers.create({});
    await expect(
      stripe.paymentMethods.attach("pm_card_chargeDeclined", { customer: cus.id }),
    ).rejects.toMatchObject({ type: "StripeCardError", code: "card_declined" });
    await expect(
      stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: "pm_nope" } }),
    ).rejects.toMatchObject({ code: "resource_missing" });
  });

  it("checkout.session.completed: payment mode confirmed through the payment page", async () => {
    const r = await replay([
      product,
      oneTimePrice,
      checkoutSession({ payment_intent_data: { shipping: { name: "Jenny Rosen", address } } }),
      { name: "payment_page", path: "/v1/payment_pages/${checkout_session:id}", method: "get" },
      {
        name: "payment_method",
        path: "/v1/payment_methods",
        method: "post",
        params: {
          type: "card",
          card: { token: "tok_visa" },
          billing_details: { email: "stripe@example.com", name: "Jenny Rosen", address },
        },
      },
      {
        name: "payment_page_confirm",
        path: "/v1/payment_pages/${checkout_session:id}/confirm",
        method: "post",
        params: { payment_method: "${payment_method:id}", expected_amount: 3000 },
      },
    ]);
    expect(r.step("checkout_session")).toMatchObject({
      mode: "payment",
      amount_total: 3000,
      status: "open",
    });
    expect(r.step("payment_page_confirm")).toMatchObject({
      status: "complete",
      payment_status: "paid",
      customer: null,
      customer_details: { email: "stripe@example.com", name: "Jenny Rosen" },
    });
    expect(r.types.at(-1)).toBe("checkout.session.completed");
  });

  it("checkout.session.expired", async () => {
    const r = await replay([
      product,
      oneTimePrice,
      checkoutSession(),
      {
        name: "checkout_session_expired",
        path: "/v1/checkout/sessions/${checkout_session:id}/expire",
        method: "post",
      },
    ]);
    expect(r.step("checkout_session_expired").status).toBe("expired");
    expect(r.types.at(-1)).toBe("checkout.session.expired");
  });
});

describe("checkout in payment and setup modes", () => {
  it("payment mode with price_data; a declining card is a 402 and the session stays open", async () => {
    const { stripe, emulator } = harness();
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      success_url: "https://example.com/ok",
      line_items: [
        {
          price_data: { currency: "usd", unit_amount: 1250, product_data: { name: "Seats" } },
          quantity: 2,
        },
      ],
    });
    expect(session).toMatchObject({
      mode: "payment",
      amount_total: 2500,
      customer_creation: "if_required",
    });
    const declined = await emulator.fetch(
      `http://127.0.0.1:12111/v1/payment_pages/${session.id}/confirm`,
      {
        method: "POST",
        headers: {
          Authorization: "Bearer sk_test_x",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: "payment_method=pm_card_chargeDeclined",
      },
    );
    expect(declined.status).toBe(402);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
    expect(emulator.completeCheckoutSession(session.id, { email: "buyer@example.com" })).toBe(
      "https://example.com/ok",
    );
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["line_items"] });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", customer: null });
    expect(done.line_items?.data[0]).toMatchObject({ quantity: 2, amount_total: 2500 });
  });

  it("the hosted page shows a failing payment-mode charge and keeps the session open", async () => {
    const { stripe, emulator } = harness({ baseUrl: "http://127.0.0.1:12111" });
    const cus = await stripe.customers.create({ email: "broke@example.com" });
    emulator.setPaymentOutcome(cus.id, "fail");
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      customer: cus.id,
      success_url: "https://example.com/ok",
      line_items: [
        {
          price_data: { currency: "usd", unit_amount: 500, product_data: { name: "Pack" } },
          quantity: 1,
        },
      ],
    });
    const pay = await emulator.fetch(`http://127.0.0.1:12111/checkout/${session.id}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "action=pay",
      redirect: "manual",
    });
    expect(pay.status).toBe(303);
    expect(pay.headers.get("Location")).toBe(`/checkout/${session.id}`);
    const page = await (
      await emulator.fetch(`http://127.0.0.1:12111/checkout/${session.id}`)
    ).text();
    expect(page).toContain("Your card was declined.");
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
  });

  it("setup mode saves the card on the customer; recurring prices are refused in payment mode", async () => {
    const { stripe, emulator } = harness();
    const cus = await stripe.customers.create({ email: "a@example.com" });
    const session = await stripe.checkout.sessions.create({
      mode: "setup",
      currency: "usd",
      customer: cus.id,
      success_url: "https://example.com/ok",
    });
    expect(session).toMatchObject({ mode: "setup", payment_status: "no_payment_required" });
    emulator.completeCheckoutSession(session.id);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: "complete", customer: cus.id });
    const pms = await stripe.customers.listPaymentMethods(cus.id);
    expect(pms.data).toHaveLength(1);
    const types = (await stripe.events.list()).data.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(["checkout.session.completed", "payment_method.attached"]);

    const monthly = await stripe.prices.create({
      currency: "usd",
      unit_amount: 100,
      recurring: { interval: "month" },
      product_data: { name: "x" },
    });
    await expect(
      stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: monthly.id, quantity: 1 }],
      }),
    ).rejects.toMatchObject({ param: "line_items[0][price]" });
  });
});
