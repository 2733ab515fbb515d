import type Stripe from "stripe";
import {
  CATALOG,
  type Catalog,
  INTERVALS,
  type Interval,
  METERED_METRICS,
  type MeteredMetric,
  meteredPriceLookupKey,
  meteredUnitAmountDecimal,
  PLAN_IDS,
  priceLookupKey,
} from "./catalog.js";

// Makes a Stripe account (or the emulator) sell what the catalog says: one billing meter per
// metered metric, one product per sold plan and per metered metric, and one price per lookup
// key. Idempotent: everything is found by what the catalog names (meter event_name, product
// metadata, price lookup key), so a second run changes nothing, and a run that died half-way is
// finished by the next one. Only `import type` from stripe: the caller brings the client, and
// the entitlement code that shares this package does not pull the SDK into a worker bundle.

export type SyncKind = "meter" | "product" | "price";
export type SyncAction = "created" | "updated" | "unchanged";

export interface SyncItem {
  kind: SyncKind;
  /** meter: event name; product: plan id or metric; price: lookup key. */
  key: string;
  /** The Stripe id; null for an object a dry run would create. */
  id: string | null;
  action: SyncAction;
  /** The fields that differed from the catalog. */
  changes: string[];
  /** Prices only: the price this one replaces (deactivated; its lookup key moved here). */
  replaced?: string;
}

export interface SyncReport {
  dryRun: boolean;
  items: SyncItem[];
  counts: Record<SyncAction, number>;
}

export interface SyncOptions {
  /** Compare and report, but write nothing. */
  dryRun?: boolean;
}

/** A difference the sync must not resolve by itself (it would change how usage is billed). */
export class StripeSyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StripeSyncError";
  }
}

interface DesiredProduct {
  key: string;
  matches: (product: Stripe.Product) => boolean;
  name: string;
  description: string;
  unitLabel: string | null;
  metadata: Record<string, string>;
}

interface DesiredPrice {
  lookupKey: string;
  productKey: string;
  currency: string;
  /** Cents per unit as an exact decimal string. */
  unitAmount: string;
  interval: Interval;
  usageType: "licensed" | "metered";
  meter: MeteredMetric | null;
  nickname: string;
  metadata: Record<string, string>;
}

const INTERVAL_NAMES: Record<Interval, string> = { month: "monthly", year: "yearly" };

function desiredProducts(catalog: Catalog): DesiredProduct[] {
  const products: DesiredProduct[] = [];
  for (const id of PLAN_IDS) {
    const plan = catalog.plans[id];
    if (!plan.prices) continue; // nothing to sell (free)
    products.push({
      key: id,
      matches: (p) => p.metadata.plan === id && p.metadata.metric === undefined,
      name: plan.name,
      description: plan.description,
      unitLabel: null,
      metadata: { plan: id, contact_sales: String(plan.contactSales) },
    });
  }
  // Metered prices live on a product of their own, so invoice lines read "Events", not "Pro".
  for (const metric of usedMetrics(catalog)) {
    const meter = catalog.meters[metric];
    products.push({
      key: metric,
      matches: (p) => p.metadata.metric === metric && p.metadata.plan === undefined,
      name: meter.displayName,
      description: `${meter.displayName} above the amount included in the plan.`,
      unitLabel: metric.replace(/s$/, ""),
      metadata: { metric },
    });
  }
  return products;
}

function usedMetrics(catalog: Catalog): MeteredMetric[] {
  return METERED_METRICS.filter((m) => PLAN_IDS.some((id) => catalog.plans[id].metered[m]));
}

function desiredPrices(catalog: Catalog): DesiredPrice[] {
  const prices: DesiredPrice[] = [];
  for (const id of PLAN_IDS) {
    const plan = catalog.plans[id];
    if (!plan.prices) continue;
    for (const interval of INTERVALS) {
      prices.push({
        lookupKey: priceLookupKey(id, interval),
        productKey: id,
        currency: catalog.currency,
        unitAmount: String(plan.prices[interval]),
        interval,
        usageType: "licensed",
        meter: null,
        nickname: `${plan.name} ${INTERVAL_NAMES[interval]}`,
        metadata: { plan: id, interval, usage: "licensed" },
      });
    }
    for (const metric of METERED_METRICS) {
      const metered = plan.metered[metric];
      if (!metered) continue;
      // One metered price per interval: all items of a subscription share its interval.
      for (const interval of INTERVALS) {
        prices.push({
          lookupKey: meteredPriceLookupKey(id, metric, interval),
          productKey: metric,
          currency: catalog.currency,
          unitAmount: meteredUnitAmountDecimal(metered),
          interval,
          usageType: "metered",
          meter: metric,
          nickname: `${plan.name} ${catalog.meters[metric].displayName.toLowerCase()}, ${INTERVAL_NAMES[interval]}`,
          metadata: { plan: id, interval, usage: "metered", metric },
        });
      }
    }
  }
  return prices;
}

function metadataChanges(
  actual: Record<string, string>,
  desired: Record<string, string>,
): string[] {
  // Only the keys the catalog owns: metadata added by people in the dashboard is left alone.
  return Object.entries(desired)
    .filter(([key, value]) => actual[key] !== value)
    .map(([key]) => `metadata.${key}`);
}

function idOf(value: string | { id: string }): string {
  return typeof value === "string" ? value : value.id;
}

/**
 * Creates or updates the catalog's meters, products and prices in Stripe and reports what it
 * did. Prices are immutable in Stripe: a changed amount (or interval, meter, product) creates a
 * new price that takes the lookup key over (`transfer_lookup_key`), and the old price is
 * deactivated, so existing subscriptions keep their price until they are moved.
 */
export async function syncCatalogToStripe(
  stripe: Stripe,
  catalog: Catalog = CATALOG,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const dryRun = options.dryRun ?? false;
  const items: SyncItem[] = [];

  // Meters, found by event name. Stripe's list has no event_name filter, so list them all.
  const meterIds = new Map<MeteredMetric, string | null>();
  const meters = await stripe.billing.meters.list({ limit: 100 }).autoPagingToArray({
    limit: 10_000,
  });
  for (const metric of usedMetrics(catalog)) {
    const want = catalog.meters[metric];
    const candidates = meters.filter((m) => m.event_name === want.eventName);
    const existing = candidates.find((m) => m.status === "active") ?? candidates[0];
    if (!existing) {
      const created = dryRun
        ? null
        : await stripe.billing.meters.create({
            display_name: want.displayName,
            event_name: want.eventName,
            default_aggregation: { formula: want.formula },
            customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
            value_settings: { event_payload_key: want.valueKey },
          });
      meterIds.set(metric, created?.id ?? null);
      items.push({
        kind: "meter",
        key: want.eventName,
        id: created?.id ?? null,
        action: "created",
        changes: [],
      });
      continue;
    }
    // Aggregation and value key cannot be changed on a Stripe meter, and changing them would
    // change what customers are billed: that needs a new event name, decided by a person.
    if (existing.default_aggregation.formula !== want.formula) {
      throw new StripeSyncError(
        `Meter ${existing.id} (${want.eventName}) aggregates with "${existing.default_aggregation.formula}", the catalog says "${want.formula}". Meters cannot change their aggregation; give the metric a new event name.`,
      );
    }
    if (existing.value_settings.event_payload_key !== want.valueKey) {
      throw new StripeSyncError(
        `Meter ${existing.id} (${want.eventName}) reads payload["${existing.value_settings.event_payload_key}"], the catalog says "${want.valueKey}". Give the metric a new event name.`,
      );
    }
    const changes: string[] = [];
    if (existing.status !== "active") {
      changes.push("status");
      if (!dryRun) await stripe.billing.meters.reactivate(existing.id);
    }
    if (existing.display_name !== want.displayName) {
      changes.push("display_name");
      if (!dryRun) {
        await stripe.billing.meters.update(existing.id, { display_name: want.displayName });
      }
    }
    meterIds.set(metric, existing.id);
    items.push({
      kind: "meter",
      key: want.eventName,
      id: existing.id,
      action: changes.length ? "updated" : "unchanged",
      changes,
    });
  }

  // Products, found by metadata (plan or metric).
  const productIds = new Map<string, string | null>();
  const products = await stripe.products.list({ limit: 100 }).autoPagingToArray({
    limit: 10_000,
  });
  for (const want of desiredProducts(catalog)) {
    const candidates = products.filter(want.matches);
    const existing = candidates.find((p) => p.active) ?? candidates[0];
    if (!existing) {
      const created = dryRun
        ? null
        : await stripe.products.create({
            name: want.name,
            description: want.description,
            metadata: want.metadata,
            ...(want.unitLabel ? { unit_label: want.unitLabel } : {}),
          });
      productIds.set(want.key, created?.id ?? null);
      items.push({
        kind: "product",
        key: want.key,
        id: created?.id ?? null,
        action: "created",
        changes: [],
      });
      continue;
    }
    const changes: string[] = [];
    const update: Stripe.ProductUpdateParams = {};
    if (existing.name !== want.name) {
      changes.push("name");
      update.name = want.name;
    }
    if ((existing.description ?? null) !== want.description) {
      changes.push("description");
      update.description = want.description;
    }
    if ((existing.unit_label ?? null) !== want.unitLabel) {
      changes.push("unit_label");
      update.unit_label = want.unitLabel ?? ""; // an empty string unsets it
    }
    if (!existing.active) {
      changes.push("active");
      update.active = true;
    }
    const metadata = metadataChanges(existing.metadata, want.metadata);
    if (metadata.length) {
      changes.push(...metadata);
      update.metadata = want.metadata;
    }
    if (changes.length && !dryRun) await stripe.products.update(existing.id, update);
    productIds.set(want.key, existing.id);
    items.push({
      kind: "product",
      key: want.key,
      id: existing.id,
      action: changes.length ? "updated" : "unchanged",
      changes,
    });
  }

  // Prices, found by lookup key (the list takes at most 10 keys per call).
  const wanted = desiredPrices(catalog);
  const byLookupKey = new Map<string, Stripe.Price>();
  for (let i = 0; i < wanted.length; i += 10) {
    const keys = wanted.slice(i, i + 10).map((p) => p.lookupKey);
    const page = await stripe.prices.list({ lookup_keys: keys, limit: 100 });
    for (const price of page.data) if (price.lookup_key) byLookupKey.set(price.lookup_key, price);
  }
  for (const want of wanted) {
    const productId = productIds.get(want.productKey) ?? null;
    const meterId = want.meter ? (meterIds.get(want.meter) ?? null) : null;
    const existing = byLookupKey.get(want.lookupKey);
    const immutable = existing ? priceDifferences(stripe, existing, want, productId, meterId) : [];
    if (!existing || immutable.length) {
      let id: string | null = null;
      if (!dryRun) {
        if (!productId) throw new Error(`product ${want.productKey} was not synced`);
        const created = await stripe.prices.create({
          product: productId,
          currency: want.currency,
          ...(Number.isInteger(Number(want.unitAmount))
            ? { unit_amount: Number(want.unitAmount) }
            : { unit_amount_decimal: stripe.Decimal.from(want.unitAmount) }),
          recurring: {
            interval: want.interval,
            usage_type: want.usageType,
            ...(meterId ? { meter: meterId } : {}),
          },
          lookup_key: want.lookupKey,
          transfer_lookup_key: true,
          nickname: want.nickname,
          metadata: want.metadata,
        });
        id = created.id;
        if (existing?.active) await stripe.prices.update(existing.id, { active: false });
      }
      items.push({
        kind: "price",
        key: want.lookupKey,
        id,
        action: "created",
        changes: immutable,
        ...(existing ? { replaced: existing.id } : {}),
      });
      continue;
    }
    const changes: string[] = [];
    const update: Stripe.PriceUpdateParams = {};
    if (!existing.active) {
      changes.push("active");
      update.active = true;
    }
    if (existing.nickname !== want.nickname) {
      changes.push("nickname");
      update.nickname = want.nickname;
    }
    const metadata = metadataChanges(existing.metadata, want.metadata);
    if (metadata.length) {
      changes.push(...metadata);
      update.metadata = want.metadata;
    }
    if (changes.length && !dryRun) await stripe.prices.update(existing.id, update);
    items.push({
      kind: "price",
      key: want.lookupKey,
      id: existing.id,
      action: changes.length ? "updated" : "unchanged",
      changes,
    });
  }

  const counts: Record<SyncAction, number> = { created: 0, updated: 0, unchanged: 0 };
  for (const item of items) counts[item.action]++;
  return { dryRun, items, counts };
}

/** Differences in what Stripe does not let us change on a price. */
function priceDifferences(
  stripe: Stripe,
  price: Stripe.Price,
  want: DesiredPrice,
  productId: string | null,
  meterId: string | null,
): string[] {
  const changes: string[] = [];
  if (idOf(price.product) !== productId) changes.push("product");
  if (price.currency !== want.currency) changes.push("currency");
  const amount = price.unit_amount_decimal ?? price.unit_amount;
  if (
    amount === null ||
    !stripe.Decimal.from(String(amount)).eq(stripe.Decimal.from(want.unitAmount))
  ) {
    changes.push("unit_amount");
  }
  if (price.billing_scheme !== "per_unit" || price.transform_quantity !== null) {
    changes.push("billing_scheme");
  }
  const recurring = price.recurring;
  if (recurring?.interval !== want.interval || recurring.interval_count !== 1) {
    changes.push("recurring.interval");
  }
  if (recurring?.usage_type !== want.usageType) changes.push("recurring.usage_type");
  if ((recurring?.meter ?? null) !== meterId) changes.push("recurring.meter");
  return changes;
}

/** A plain-text report, one line per object, for the CLI. */
export function formatSyncReport(report: SyncReport): string {
  const lines = report.items.map((item) => {
    const details = [
      item.changes.length ? `(${item.changes.join(", ")})` : "",
      item.replaced ? `replaces ${item.replaced}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    return `${item.action.padEnd(9)} ${item.kind.padEnd(7)} ${item.key.padEnd(28)} ${item.id ?? "(dry run)"}${details ? ` ${details}` : ""}`;
  });
  const { created, updated, unchanged } = report.counts;
  lines.push(
    `${report.dryRun ? "dry run: would have " : ""}created ${created}, updated ${updated}, unchanged ${unchanged}`,
  );
  return lines.join("\n");
}
