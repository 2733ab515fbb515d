import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { catalog, harness, header, rejection } from "./helpers.js";

describe("customers", () => {
  it("creates, retrieves, updates and lists with metadata", async () => {
    const { stripe } = harness();
    const created: Stripe.Customer = await stripe.customers.create({
      email: "owner@acme.test",
      name: "Acme",
      metadata: { tenant_id: "ten_1" },
    });
    expect(created.id).toMatch(/^cus_/);
    expect(created.object).toBe("customer");
    expect(created.livemode).toBe(false);
    expect(created.metadata).toEqual({ tenant_id: "ten_1" });

    const updated = await stripe.customers.update(created.id, {
      metadata: { tenant_id: "", plan: "pro" },
      name: "Acme Inc",
    });
    expect(updated.metadata).toEqual({ plan: "pro" });
    expect(updated.name).toBe("Acme Inc");

    const fetched = await stripe.customers.retrieve(created.id);
    expect(fetched.deleted).toBeUndefined();
    if (!fetched.deleted) expect(fetched.email).toBe("owner@acme.test");

    for (let i = 0; i < 3; i++) await stripe.customers.create({ email: `c${i}@acme.test` });
    const page1 = await stripe.customers.list({ limit: 2 });
    expect(page1.object).toBe("list");
    expect(page1.url).toBe("/v1/customers");
    expect(page1.data.map((c) => c.email)).toEqual(["c2@acme.test", "c1@acme.test"]);
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.customers.list({ limit: 2, starting_after: page1.data[1]?.id });
    expect(page2.data.map((c) => c.email)).toEqual(["c0@acme.test", "owner@acme.test"]);
    expect(page2.has_more).toBe(false);
    const all: string[] = [];
    for await (const c of stripe.customers.list({ limit: 1 })) all.push(c.id);
    expect(all).toHaveLength(4);
    const byEmail = await stripe.customers.list({ email: "c1@acme.test" });
    expect(byEmail.data).toHaveLength(1);

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toEqual(expect.objectContaining({ id: created.id, deleted: true }));
    expect((await rejection(stripe.customers.retrieve(created.id))).statusCode).toBe(404);
    const types = (await stripe.events.list({ limit: 100 })).data.map((e) => e.type);
    expect(types.filter((t) => t === "customer.created")).toHaveLength(4);
    expect(types).toContain("customer.updated");
    expect(types[0]).toBe("customer.deleted");
  });
});

describe("products and prices", () => {
  it("filters prices by lookup key and transfers lookup keys", async () => {
    const { stripe } = harness();
    const { product, month, year } = await catalog(stripe, "pro", 2000);
    expect(month.id).toMatch(/^price_/);
    expect(month.recurring).toMatchObject({
      interval: "month",
      interval_count: 1,
      usage_type: "licensed",
      meter: null,
    });
    expect(month.unit_amount).toBe(2000);
    expect(String(month.unit_amount_decimal)).toBe("2000");
    expect(month.product).toBe(product.id);

    const found = await stripe.prices.list({
      lookup_keys: ["pro_month", "pro_year"],
      expand: ["data.product"],
    });
    expect(found.data.map((p) => p.id).sort()).toEqual([month.id, year.id].sort());
    const expanded = found.data[0]?.product as Stripe.Product;
    expect(expanded.name).toBe("PRO");

    const clash = await rejection(
      stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 2500,
        recurring: { interval: "month" },
        lookup_key: "pro_month",
      }),
    );
    expect(clash).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(clash.param).toBe("lookup_key");

    const replacement = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2500,
      recurring: { interval: "month" },
      lookup_key: "pro_month",
      transfer_lookup_key: true,
    });
    expect((await stripe.prices.retrieve(month.id)).lookup_key).toBeNull();
    const now = await stripe.prices.list({ lookup_keys: ["pro_month"] });
    expect(now.data.map((p) => p.id)).toEqual([replacement.id]);

    const archived = await stripe.prices.update(month.id, { active: false });
    expect(archived.active).toBe(false);
    expect((await stripe.prices.list({ active: true, product: product.id })).data).toHaveLength(2);

    const withData = await stripe.products.create({
      name: "Business",
      default_price_data: { currency: "usd", unit_amount: 9900, recurring: { interval: "month" } },
    });
    expect(typeof withData.default_price).toBe("string");
    const productUpdate = await stripe.products.update(withData.id, { description: "For teams" });
    expect(productUpdate.description).toBe("For teams");
  });

  it("creates metered prices backed by a meter", async () => {
    const { stripe } = harness();
    const meter = await stripe.billing.meters.create({
      display_name: "API calls",
      event_name: "api_calls",
      default_aggregation: { formula: "sum" },
    });
    const price = await stripe.prices.create({
      product_data: { name: "API usage" },
      currency: "usd",
      unit_amount_decimal: Stripe.Decimal.from("0.5"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    expect(price.recurring?.meter).toBe(meter.id);
    expect(price.unit_amount).toBeNull();
    expect(price.unit_amount_decimal?.toString()).toBe("0.5");
    const missing = await rejection(
      stripe.prices.create({
        product: price.product as string,
        currency: "usd",
        unit_amount: 1,
        recurring: { interval: "month", usage_type: "metered" },
      }),
    );
    expect(missing.code).toBe("parameter_missing");
    expect(missing.param).toBe("recurring[meter]");
  });
});

describe("errors", () => {
  it("answers missing params, unknown ids and bad keys in Stripe's shape", async () => {
    const { stripe, emulator } = harness();
    const missing = await rejection(stripe.products.create({} as Stripe.ProductCreateParams));
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing.statusCode).toBe(400);
    expect(missing.type).toBe("StripeInvalidRequestError");
    expect(missing.code).toBe("parameter_missing");
    expect(missing.param).toBe("name");
    expect(missing.message).toBe("Missing required param: name.");
    expect(missing.requestId).toMatch(/^req_/);

    const unknown = await rejection(stripe.customers.retrieve("cus_nope"));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.code).toBe("resource_missing");
    expect(unknown.param).toBe("id");
    expect(unknown.message).toBe("No such customer: 'cus_nope'");
    expect(unknown.raw).toMatchObject({
      type: "invalid_request_error",
      doc_url: "https://stripe.com/docs/error-codes/resource-missing",
    });

    const live = new Stripe("sk_live_notatestkey", {
      httpClient: Stripe.createFetchHttpClient(emulator.fetch),
      maxNetworkRetries: 0,
    });
    const auth = await rejection(live.customers.list());
    expect(auth).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(auth.statusCode).toBe(401);
    expect(auth.message).toMatch(/^Invalid API Key provided: sk_live_/);

    const badInt = await rejection(stripe.customers.list({ limit: "x" as unknown as number }));
    expect(badInt.code).toBe("parameter_invalid_integer");
    expect(badInt.param).toBe("limit");

    const raw = await emulator.fetch("https://api.stripe.com/v1/nope", {
      headers: { Authorization: "Bearer sk_test_x" },
    });
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({
      error: {
        type: "invalid_request_error",
        message:
          "Unrecognized request URL (GET: /v1/nope). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
      },
    });
  });
});

describe("idempotency", () => {
  it("replays the stored response for the same key and params, and refuses different params", async () => {
    const { stripe } = harness();
    const first = await stripe.customers.create(
      { email: "a@acme.test", metadata: { tenant_id: "t1" } },
      { idempotencyKey: "tenant:t1" },
    );
    const again = await stripe.customers.create(
      { email: "a@acme.test", metadata: { tenant_id: "t1" } },
      { idempotencyKey: "tenant:t1" },
    );
    expect(again.id).toBe(first.id);
    expect(header(again, "Idempotent-Replayed")).toBe("true");
    expect(header(first, "Idempotent-Replayed")).toBeUndefined();
    expect(header(again, "Original-Request")).toBe(first.lastResponse.requestId);
    expect(again.lastResponse.requestId).not.toBe(first.lastResponse.requestId);
    expect((await stripe.customers.list()).data).toHaveLength(1);

    const mismatch = await rejection(
      stripe.customers.create({ email: "b@acme.test" }, { idempotencyKey: "tenant:t1" }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.message).toContain("same parameters");

    const otherEndpoint = await rejection(
      stripe.products.create({ name: "x" }, { idempotencyKey: "tenant:t1" }),
    );
    expect(otherEndpoint).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    // Validation failures are not saved: the same key may be retried with good params.
    const invalid = await rejection(
      stripe.products.create({} as Stripe.ProductCreateParams, { idempotencyKey: "p1" }),
    );
    expect(invalid.code).toBe("parameter_missing");
    const product = await stripe.products.create({ name: "Pro" }, { idempotencyKey: "p1" });
    expect(product.name).toBe("Pro");
  });
});

describe("request counts", () => {
  it("counts API requests per route, for benchmarks; reset clears them", async () => {
    const { stripe, emulator } = harness();
    const customer = await stripe.customers.create({ email: "count@acme.test" });
    await stripe.subscriptions.list({ customer: customer.id });
    await stripe.subscriptions.list({ customer: customer.id });
    const counts = async () => {
      const res = await emulator.fetch("http://emulator/_emulator/requests", {
        headers: { Authorization: "Bearer sk_test_emulator" },
      });
      return ((await res.json()) as { data: Record<string, number> }).data;
    };
    expect(await counts()).toEqual({ "POST /v1/customers": 1, "GET /v1/subscriptions": 2 });
    emulator.reset();
    expect(await counts()).toEqual({});
  });
});
