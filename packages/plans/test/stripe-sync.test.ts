import { createStripeEmulator, type StripeEmulator } from "@tenantry/stripe-emulator";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  billableUsage,
  CATALOG,
  type Catalog,
  CatalogSchema,
  formatSyncReport,
  StripeSyncError,
  type SyncReport,
  syncCatalogToStripe,
} from "../src/index";

const LICENSED_KEYS = [
  "pro_month",
  "pro_year",
  "business_month",
  "business_year",
  "enterprise_month",
  "enterprise_year",
];
const METERED_KEYS = [
  "pro_events_month",
  "pro_events_year",
  "business_events_month",
  "business_events_year",
  "enterprise_events_month",
  "enterprise_events_year",
];

function harness(): { emulator: StripeEmulator; stripe: Stripe } {
  const emulator = createStripeEmulator({ seed: 1 });
  const stripe = new Stripe("sk_test_x", {
    httpClient: Stripe.createFetchHttpClient(emulator.fetch),
    maxNetworkRetries: 0,
  });
  return { emulator, stripe };
}

/** Everything the sync could have touched, counted through the API. */
async function objectCounts(stripe: Stripe) {
  const all = { limit: 10_000 };
  return {
    meters: (await stripe.billing.meters.list({ limit: 100 }).autoPagingToArray(all)).length,
    products: (await stripe.products.list({ limit: 100 }).autoPagingToArray(all)).length,
    prices: (await stripe.prices.list({ limit: 100 }).autoPagingToArray(all)).length,
    events: (await stripe.events.list({ limit: 100 }).autoPagingToArray(all)).length,
  };
}

function actions(report: SyncReport): Record<string, string> {
  return Object.fromEntries(report.items.map((i) => [`${i.kind}:${i.key}`, i.action]));
}

function changedCatalog(change: (catalog: Catalog) => void): Catalog {
  const copy = structuredClone(CATALOG);
  change(copy);
  return CatalogSchema.parse(copy);
}

async function byLookupKey(stripe: Stripe, keys: string[]): Promise<Map<string, Stripe.Price>> {
  const prices = new Map<string, Stripe.Price>();
  for (let i = 0; i < keys.length; i += 10) {
    const page = await stripe.prices.list({ lookup_keys: keys.slice(i, i + 10) });
    for (const price of page.data) prices.set(price.lookup_key ?? "", price);
  }
  return prices;
}

describe("syncCatalogToStripe", () => {
  it("creates the meter, products and prices on the first run", async () => {
    const { stripe } = harness();
    const report = await syncCatalogToStripe(stripe);
    expect(report.dryRun).toBe(false);
    expect(report.counts).toEqual({ created: 17, updated: 0, unchanged: 0 });
    expect(report.items.map((i) => `${i.kind}:${i.key}`)).toEqual([
      "meter:tenantry_events",
      "product:pro",
      "product:business",
      "product:enterprise",
      "product:events",
      ...[
        "pro_month",
        "pro_year",
        "pro_events_month",
        "pro_events_year",
        "business_month",
        "business_year",
        "business_events_month",
        "business_events_year",
        "enterprise_month",
        "enterprise_year",
        "enterprise_events_month",
        "enterprise_events_year",
      ].map((k) => `price:${k}`),
    ]);
    expect(await objectCounts(stripe)).toMatchObject({ meters: 1, products: 4, prices: 12 });

    const meter = await stripe.billing.meters.retrieve(report.items[0]!.id!);
    expect(meter).toMatchObject({
      event_name: "tenantry_events",
      display_name: "Events",
      default_aggregation: { formula: "sum" },
      status: "active",
    });
    const products = await stripe.products.list({ limit: 100 });
    const pro = products.data.find((p) => p.metadata.plan === "pro")!;
    expect(pro).toMatchObject({ name: "Pro", active: true, metadata: { contact_sales: "false" } });
    expect(
      products.data.find((p) => p.metadata.plan === "enterprise")?.metadata.contact_sales,
    ).toBe("true");
    const events = products.data.find((p) => p.metadata.metric === "events")!;
    expect(events).toMatchObject({ name: "Events", unit_label: "event" });
    expect(products.data.some((p) => p.metadata.plan === "free")).toBe(false);

    const prices = await byLookupKey(stripe, [...LICENSED_KEYS, ...METERED_KEYS]);
    expect(prices.get("pro_month")).toMatchObject({
      product: pro.id,
      currency: "usd",
      unit_amount: 2_900,
      active: true,
      recurring: { interval: "month", usage_type: "licensed", meter: null },
      metadata: { plan: "pro", interval: "month", usage: "licensed" },
    });
    const proEvents = prices.get("pro_events_month")!;
    expect(proEvents).toMatchObject({
      product: events.id,
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
      metadata: { plan: "pro", interval: "month", usage: "metered", metric: "events" },
    });
    expect(String(proEvents.unit_amount_decimal)).toBe("0.1");
    expect(String(prices.get("enterprise_events_year")?.unit_amount_decimal)).toBe("0.025");
  });

  it("changes nothing on a second run", async () => {
    const { stripe } = harness();
    await syncCatalogToStripe(stripe);
    const before = await objectCounts(stripe);
    const second = await syncCatalogToStripe(stripe);
    expect(second.counts).toEqual({ created: 0, updated: 0, unchanged: 17 });
    expect(second.items.every((i) => i.action === "unchanged" && i.changes.length === 0)).toBe(
      true,
    );
    // Same objects, and not a single update event emitted.
    expect(await objectCounts(stripe)).toEqual(before);
  });

  it("resolves the lookup keys <plan>_<interval> to the catalog's prices", async () => {
    const { stripe } = harness();
    await syncCatalogToStripe(stripe);
    const page = await stripe.prices.list({ lookup_keys: LICENSED_KEYS });
    expect(page.data).toHaveLength(6);
    const amounts = Object.fromEntries(
      page.data.map((p) => [p.lookup_key, [p.unit_amount, p.recurring?.interval]]),
    );
    expect(amounts).toEqual({
      pro_month: [2_900, "month"],
      pro_year: [29_000, "year"],
      business_month: [9_900, "month"],
      business_year: [99_000, "year"],
      enterprise_month: [49_900, "month"],
      enterprise_year: [499_000, "year"],
    });
  });

  it("moves the lookup key to a new price when an amount changes, and retires the old one", async () => {
    const { stripe } = harness();
    const first = await syncCatalogToStripe(stripe);
    const oldId = first.items.find((i) => i.key === "pro_month")!.id!;
    const oldEventsId = first.items.find((i) => i.key === "pro_events_month")!.id!;

    const catalog = changedCatalog((c) => {
      c.plans.pro.prices = { month: 3_900, year: 29_000 };
      c.plans.pro.metered.events = { amount: 80, per: 1_000 };
    });
    const report = await syncCatalogToStripe(stripe, catalog);
    // pro_month, and both pro_events_* prices (the metered price of each interval).
    expect(report.counts).toEqual({ created: 3, updated: 0, unchanged: 14 });
    const moved = report.items.find((i) => i.key === "pro_month")!;
    expect(moved).toMatchObject({ action: "created", replaced: oldId, changes: ["unit_amount"] });
    expect(moved.id).not.toBe(oldId);
    expect(report.items.find((i) => i.key === "pro_events_month")).toMatchObject({
      action: "created",
      replaced: oldEventsId,
      changes: ["unit_amount"],
    });

    const current = await byLookupKey(stripe, ["pro_month", "pro_events_month", "pro_year"]);
    expect(current.get("pro_month")).toMatchObject({ id: moved.id, unit_amount: 3_900 });
    expect(String(current.get("pro_events_month")?.unit_amount_decimal)).toBe("0.08");
    expect(current.get("pro_year")?.unit_amount).toBe(29_000);
    const old = await stripe.prices.retrieve(oldId);
    expect(old).toMatchObject({ active: false, lookup_key: null, unit_amount: 2_900 });
    expect((await stripe.prices.retrieve(oldEventsId)).active).toBe(false);

    expect((await syncCatalogToStripe(stripe, catalog)).counts).toEqual({
      created: 0,
      updated: 0,
      unchanged: 17,
    });
  });

  it("updates what Stripe lets it update in place, and keeps foreign metadata", async () => {
    const { stripe } = harness();
    const first = await syncCatalogToStripe(stripe);
    const id = (key: string) => first.items.find((i) => i.key === key)!.id!;
    // Someone changed things in the dashboard.
    await stripe.products.update(id("pro"), {
      name: "Pro (old)",
      metadata: { contact_sales: "true", crm_id: "42" },
    });
    await stripe.prices.update(id("pro_year"), { active: false, nickname: "legacy" });
    await stripe.billing.meters.deactivate(id("tenantry_events"));

    const catalog = changedCatalog((c) => {
      c.plans.business.name = "Team";
      c.meters.events.displayName = "Usage events";
    });
    const report = await syncCatalogToStripe(stripe, catalog);
    expect(actions(report)).toMatchObject({
      "meter:tenantry_events": "updated",
      "product:pro": "updated",
      "product:business": "updated",
      "product:events": "updated",
      "price:pro_year": "updated",
      "price:pro_month": "unchanged",
      "price:pro_events_month": "updated", // its nickname names the meter's display name
    });
    expect(report.items.find((i) => i.key === "tenantry_events")?.changes).toEqual([
      "status",
      "display_name",
    ]);
    expect(report.items.find((i) => i.key === "pro")?.changes).toEqual([
      "name",
      "metadata.contact_sales",
    ]);
    expect(report.items.find((i) => i.key === "pro_year")?.changes).toEqual(["active", "nickname"]);
    expect(report.counts.created).toBe(0);

    const pro = await stripe.products.retrieve(id("pro"));
    expect(pro).toMatchObject({
      name: "Pro",
      metadata: { plan: "pro", contact_sales: "false", crm_id: "42" },
    });
    expect(await stripe.prices.retrieve(id("pro_year"))).toMatchObject({
      active: true,
      nickname: "Pro yearly",
    });
    expect(await stripe.billing.meters.retrieve(id("tenantry_events"))).toMatchObject({
      status: "active",
      display_name: "Usage events",
    });
    expect((await syncCatalogToStripe(stripe, catalog)).counts.unchanged).toBe(17);
  });

  it("writes nothing in a dry run", async () => {
    const { stripe } = harness();
    const dry = await syncCatalogToStripe(stripe, CATALOG, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, counts: { created: 17, updated: 0, unchanged: 0 } });
    expect(dry.items.every((i) => i.id === null)).toBe(true);
    expect(await objectCounts(stripe)).toEqual({ meters: 0, products: 0, prices: 0, events: 0 });

    await syncCatalogToStripe(stripe);
    const before = await objectCounts(stripe);
    const catalog = changedCatalog((c) => {
      c.plans.business.prices = { month: 12_900, year: 129_000 };
    });
    const planned = await syncCatalogToStripe(stripe, catalog, { dryRun: true });
    expect(planned.counts).toEqual({ created: 2, updated: 0, unchanged: 15 });
    expect(formatSyncReport(planned)).toContain(
      "dry run: would have created 2, updated 0, unchanged 15",
    );
    expect(await objectCounts(stripe)).toEqual(before);
  });

  it("refuses to re-purpose a meter whose aggregation differs", async () => {
    const { stripe } = harness();
    await stripe.billing.meters.create({
      display_name: "Events",
      event_name: "tenantry_events",
      default_aggregation: { formula: "count" },
    });
    await expect(syncCatalogToStripe(stripe)).rejects.toThrow(StripeSyncError);
    await expect(syncCatalogToStripe(stripe)).rejects.toThrow(/aggregates with "count"/);
  });

  it("formats a report line per object", async () => {
    const { stripe } = harness();
    await syncCatalogToStripe(stripe);
    const text = formatSyncReport(await syncCatalogToStripe(stripe));
    const lines = text.split("\n");
    expect(lines).toHaveLength(18);
    expect(lines[0]).toMatch(/^unchanged meter {3}tenantry_events +mtr_/);
    expect(lines.at(-1)).toBe("created 0, updated 0, unchanged 17");
  });

  it("bills only the events above the included amount on a synced plan", async () => {
    const { stripe } = harness();
    await syncCatalogToStripe(stripe);
    const prices = await byLookupKey(stripe, ["pro_month", "pro_events_month"]);
    const start = Date.UTC(2026, 0, 1) / 1000;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
    const customer = await stripe.customers.create({ test_clock: clock.id });
    await stripe.subscriptions.create({
      customer: customer.id,
      items: [
        { price: prices.get("pro_month")!.id },
        { price: prices.get("pro_events_month")!.id },
      ],
    });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 20 * 86_400 });
    // The tenant used 60,000 then 55,000 events: 15,000 above the 100,000 included.
    const included = CATALOG.plans.pro.limits.events.value;
    const deltas = [billableUsage(included, 0, 60_000), billableUsage(included, 60_000, 115_000)];
    expect(deltas).toEqual([0, 15_000]);
    for (const [i, value] of deltas.entries()) {
      if (value === 0) continue;
      await stripe.billing.meterEvents.create({
        event_name: CATALOG.meters.events.eventName,
        identifier: `ten_1:events:${i}`,
        timestamp: start + 10 * 86_400,
        payload: { stripe_customer_id: customer.id, value: String(value) },
      });
    }
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Date.UTC(2026, 1, 1, 1) / 1000,
    });
    const invoices = await stripe.invoices.list({ customer: customer.id });
    const renewal = invoices.data[0]!;
    const usage = renewal.lines.data.find(
      (l) => l.pricing?.price_details?.price === prices.get("pro_events_month")!.id,
    );
    // $1.00 per 1,000 → 15,000 events cost $15.00, on top of the $29.00 plan.
    expect(usage).toMatchObject({ quantity: 15_000, amount: 1_500 });
    expect(renewal.amount_paid).toBe(2_900 + 1_500);
  });
});
