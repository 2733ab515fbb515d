import type Stripe from "stripe";
import {
  CATALOG,
  type Catalog,
  INTERVALS,
  type Interval,
  METERED_METRICS,
  type Meter,
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
  const run: SyncRun = { stripe, dryRun: options.dryRun ?? false };
  // In this order: prices name their product and meter by id.
  const meters = await syncMeters(run, catalog);
  const products = await syncProducts(run, catalog);
  const prices = await syncPrices(run, catalog, products.ids, meters.ids);
  const items = [...meters.items, ...products.items, ...prices];
  const counts: Record<SyncAction, number> = { created: 0, updated: 0, unchanged: 0 };
  for (const item of items) counts[item.action]++;
  return { dryRun: run.dryRun, items, counts };
}

interface SyncRun {
  stripe: Stripe;
  dryRun: boolean;
}

/** What a step did, and the Stripe id of each object by catalog key (null: a dry run's create). */
interface SyncStep<Key> {
  items: SyncItem[];
  ids: Map<Key, string | null>;
}

/** Meters, found by event name. Stripe's list has no event_name filter, so list them all. */
async function syncMeters(run: SyncRun, catalog: Catalog): Promise<SyncStep<MeteredMetric>> {
  const step: SyncStep<MeteredMetric> = { items: [], ids: new Map() };
  const meters = await run.stripe.billing.meters.list({ limit: 100 }).autoPagingToArray({
    limit: 10_000,
  });
  for (const metric of usedMetrics(catalog)) {
    const want = catalog.meters[metric];
    const candidates = meters.filter((m) => m.event_name === want.eventName);
    const existing = candidates.find((m) => m.status === "active") ?? candidates[0];
    const item = existing ? await updateMeter(run, existing, want) : await createMeter(run, want);
    step.ids.set(metric, item.id);
    step.items.push(item);
  }
  return step;
}

async function createMeter(run: SyncRun, want: Meter): Promise<SyncItem> {
  const created = run.dryRun
    ? null
    : await run.stripe.billing.meters.create({
        display_name: want.displayName,
        event_name: want.eventName,
        default_aggregation: { formula: want.formula },
        customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
        value_settings: { event_payload_key: want.valueKey },
      });
  return {
    kind: "meter",
    key: want.eventName,
    id: created?.id ?? null,
    action: "created",
    changes: [],
  };
}

async function updateMeter(
  run: SyncRun,
  existing: Stripe.Billing.Meter,
  want: Meter,
): Promise<SyncItem> {
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
    if (!run.dryRun) await run.stripe.billing.meters.reactivate(existing.id);
  }
  if (existing.display_name !== want.displayName) {
    changes.push("display_name");
    if (!run.dryRun) {
      await run.stripe.billing.meters.update(existing.id, { display_name: want.displayName });
    }
  }
  return {
    kind: "meter",
    key: want.eventName,
    id: existing.id,
    action: changes.length ? "updated" : "unchanged",
    changes,
  };
}

/** Products, found by metadata (plan or metric). */
async function syncProducts(run: SyncRun, catalog: Catalog): Promise<SyncStep<string>> {
  const step: SyncStep<string> = { items: [], ids: new Map() };
  const products = await run.stripe.products.list({ limit: 100 }).autoPagingToArray({
    limit: 10_000,
  });
  for (const want of desiredProducts(catalog)) {
    const candidates = products.filter(want.matches);
    const existing = candidates.find((p) => p.active) ?? candidates[0];
    const item = existing
      ? await updateProduct(run, existing, want)
      : await createProduct(run, want);
    step.ids.set(want.key, item.id);
    step.items.push(item);
  }
  return step;
}

async function createProduct(run: SyncRun, want: DesiredProduct): Promise<SyncItem> {
  const created = run.dryRun
    ? null
    : await run.stripe.products.create({
        name: want.name,
        description: want.description,
        metadata: want.metadata,
        ...(want.unitLabel ? { unit_label: want.unitLabel } : {}),
      });
  return {
    kind: "product",
    key: want.key,
    id: created?.id ?? null,
    action: "created",
    changes: [],
  };
}

async function updateProduct(
  run: SyncRun,
  existing: Stripe.Product,
  want: DesiredProduct,
): Promise<SyncItem> {
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
  if (changes.length && !run.dryRun) await run.stripe.products.update(existing.id, update);
  return {
    kind: "product",
    key: want.key,
    id: existing.id,
    action: changes.length ? "updated" : "unchanged",
    changes,
  };
}

/** The ids a price refers to; null when a dry run did not create the object. */
interface PriceRefs {
  productId: string | null;
  meterId: string | null;
}

/** Prices, found by lookup key. */
async function syncPrices(
  run: SyncRun,
  catalog: Catalog,
  productIds: Map<string, string | null>,
  meterIds: Map<MeteredMetric, string | null>,
): Promise<SyncItem[]> {
  const wanted = desiredPrices(catalog);
  const byLookupKey = await pricesByLookupKey(
    run.stripe,
    wanted.map((p) => p.lookupKey),
  );
  const items: SyncItem[] = [];
  for (const want of wanted) {
    const refs: PriceRefs = {
      productId: productIds.get(want.productKey) ?? null,
      meterId: want.meter ? (meterIds.get(want.meter) ?? null) : null,
    };
    const existing = byLookupKey.get(want.lookupKey);
    const immutable = existing ? priceDifferences(run.stripe, existing, want, refs) : [];
    items.push(
      !existing || immutable.length
        ? await createPrice(run, want, refs, existing, immutable)
        : await updatePrice(run, existing, want),
    );
  }
  return items;
}

/** The list takes at most 10 lookup keys per call. */
async function pricesByLookupKey(
  stripe: Stripe,
  keys: string[],
): Promise<Map<string, Stripe.Price>> {
  const byLookupKey = new Map<string, Stripe.Price>();
  for (let i = 0; i < keys.length; i += 10) {
    const page = await stripe.prices.list({ lookup_keys: keys.slice(i, i + 10), limit: 100 });
    for (const price of page.data) if (price.lookup_key) byLookupKey.set(price.lookup_key, price);
  }
  return byLookupKey;
}

/**
 * A new price for the lookup key. When it replaces one (`changes` says why), it takes the key
 * over and the old price is deactivated.
 */
async function createPrice(
  run: SyncRun,
  want: DesiredPrice,
  refs: PriceRefs,
  replaced: Stripe.Price | undefined,
  changes: string[],
): Promise<SyncItem> {
  let id: string | null = null;
  if (!run.dryRun) {
    if (!refs.productId) throw new Error(`product ${want.productKey} was not synced`);
    const created = await run.stripe.prices.create({
      product: refs.productId,
      currency: want.currency,
      ...(Number.isInteger(Number(want.unitAmount))
        ? { unit_amount: Number(want.unitAmount) }
        : { unit_amount_decimal: run.stripe.Decimal.from(want.unitAmount) }),
      recurring: {
        interval: want.interval,
        usage_type: want.usageType,
        ...(refs.meterId ? { meter: refs.meterId } : {}),
      },
      lookup_key: want.lookupKey,
      transfer_lookup_key: true,
      nickname: want.nickname,
      metadata: want.metadata,
    });
    id = created.id;
    if (replaced?.active) await run.stripe.prices.update(replaced.id, { active: false });
  }
  return {
    kind: "price",
    key: want.lookupKey,
    id,
    action: "created",
    changes,
    ...(replaced ? { replaced: replaced.id } : {}),
  };
}

/** What Stripe lets us change on a price in place. */
async function updatePrice(
  run: SyncRun,
  existing: Stripe.Price,
  want: DesiredPrice,
): Promise<SyncItem> {
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
  if (changes.length && !run.dryRun) await run.stripe.prices.update(existing.id, update);
  return {
    kind: "price",
    key: want.lookupKey,
    id: existing.id,
    action: changes.length ? "updated" : "unchanged",
    changes,
  };
}

/** Differences in what Stripe does not let us change on a price. */
function priceDifferences(
  stripe: Stripe,
  price: Stripe.Price,
  want: DesiredPrice,
  refs: PriceRefs,
): string[] {
  const changes: string[] = [];
  if (idOf(price.product) !== refs.productId) changes.push("product");
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
  if ((recurring?.meter ?? null) !== refs.meterId) changes.push("recurring.meter");
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
