import { invalidParam, invalidRequest, missingParam, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes } from "../state.js";
import type { WirePrice } from "../wire.js";
import { createProduct } from "./products.js";

const INTERVALS = ["day", "week", "month", "year"] as const;

export function getPrice(state: EmulatorState, id: string, param = "id"): WirePrice {
  const price = state.prices.get(id);
  if (!price) throw noSuch("price", id, param, param === "id" ? 404 : 400);
  return price;
}

export interface PriceInput {
  product?: string;
  currency: string;
  unitAmount: number | null;
  unitAmountDecimal: string | null;
  recurring: WirePrice["recurring"];
  lookupKey: string | null;
  transferLookupKey: boolean;
  nickname: string | null;
  metadata: Record<string, string>;
  active: boolean;
  taxBehavior: "exclusive" | "inclusive" | "unspecified";
}

/** Reads price params (also used for `default_price_data` and `price_data`). */
export function readPriceInput(state: EmulatorState, params: Params): PriceInput {
  const currency = params.reqStr("currency").toLowerCase();
  const unitAmount = params.int("unit_amount");
  const decimal = params.str("unit_amount_decimal");
  if (unitAmount !== undefined && decimal !== undefined) {
    throw invalidRequest(
      "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
      "unit_amount",
    );
  }
  if (decimal !== undefined && !/^\d+(\.\d{1,12})?$/.test(decimal)) {
    throw invalidParam(params.name("unit_amount_decimal"), `Invalid decimal: ${decimal}`);
  }
  if (unitAmount === undefined && decimal === undefined) {
    if (params.has("tiers") || params.has("custom_unit_amount")) {
      throw invalidRequest(
        "The Stripe emulator supports per-unit prices only (unit_amount or unit_amount_decimal).",
        params.name("tiers"),
      );
    }
    throw missingParam(params.name("unit_amount"));
  }
  if (unitAmount !== undefined && unitAmount < 0) {
    throw invalidParam(
      params.name("unit_amount"),
      "This value must be greater than or equal to 0.",
    );
  }
  const recurringParams = params.obj("recurring");
  let recurring: WirePrice["recurring"] = null;
  if (recurringParams) {
    const interval = recurringParams.enumOf("interval", INTERVALS);
    if (!interval) throw missingParam(recurringParams.name("interval"));
    const usageType =
      recurringParams.enumOf("usage_type", ["licensed", "metered"] as const) ?? "licensed";
    const meter = recurringParams.str("meter") ?? null;
    // Since 2025-03-31.basil metered prices are backed by a billing meter
    // (https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-legacy-usage-based-billing).
    if (usageType === "metered" && !meter) throw missingParam(recurringParams.name("meter"));
    if (meter && !state.meters.has(meter))
      throw noSuch("billing.meter", meter, recurringParams.name("meter"), 400);
    if (meter && usageType !== "metered") {
      throw invalidParam(
        recurringParams.name("meter"),
        "A meter can only be set on prices with recurring[usage_type]=metered.",
      );
    }
    recurring = {
      interval,
      interval_count: recurringParams.int("interval_count") ?? 1,
      meter,
      trial_period_days: recurringParams.int("trial_period_days") ?? null,
      usage_type: usageType,
    };
  }
  return {
    currency,
    unitAmount:
      unitAmount ??
      (decimal !== undefined && Number.isInteger(Number(decimal)) ? Number(decimal) : null),
    unitAmountDecimal: decimal ?? (unitAmount !== undefined ? String(unitAmount) : null),
    recurring,
    lookupKey: params.str("lookup_key") ?? null,
    transferLookupKey: params.bool("transfer_lookup_key") ?? false,
    nickname: params.str("nickname") ?? null,
    metadata: params.metadata(),
    active: params.bool("active") ?? true,
    taxBehavior:
      params.enumOf("tax_behavior", ["exclusive", "inclusive", "unspecified"] as const) ??
      "unspecified",
  };
}

/**
 * Lookup keys are unique per account; `transfer_lookup_key=true` moves the key from the price
 * that holds it (https://docs.stripe.com/products-prices/manage-prices#lookup-keys).
 */
function claimLookupKey(state: EmulatorState, key: string, transfer: boolean, self?: string): void {
  for (const other of state.prices.values()) {
    if (other.lookup_key !== key || other.id === self) continue;
    if (!transfer) {
      throw invalidParam(
        "lookup_key",
        `A price (\`${other.id}\`) already uses that lookup key.`,
        "lookup_key_already_exists",
      );
    }
    const before = structuredClone(other);
    other.lookup_key = null;
    state.emit("price.updated", other, state.now(), previousAttributes(before, other));
  }
}

export function createPrice(state: EmulatorState, input: PriceInput): WirePrice {
  if (!input.product) throw missingParam("product");
  if (input.lookupKey) claimLookupKey(state, input.lookupKey, input.transferLookupKey);
  const at = state.now();
  const price: WirePrice = {
    id: newId(ID_PREFIX.price, 24),
    object: "price",
    active: input.active,
    billing_scheme: "per_unit",
    created: at,
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookupKey,
    metadata: input.metadata,
    nickname: input.nickname,
    product: input.product,
    recurring: input.recurring,
    tax_behavior: input.taxBehavior,
    tiers_mode: null,
    transform_quantity: null,
    type: input.recurring ? "recurring" : "one_time",
    unit_amount: input.unitAmount,
    unit_amount_decimal: input.unitAmountDecimal,
  };
  state.prices.set(price.id, price);
  state.track(price.id);
  state.emit("price.created", price, at);
  return price;
}

export const priceRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/prices",
    handler: ({ state, params }) => {
      const input = readPriceInput(state, params);
      let product = params.str("product");
      const productData = params.obj("product_data");
      if (product && productData) {
        throw invalidRequest(
          "You may only specify one of these parameters: product, product_data.",
          "product",
        );
      }
      if (product && !state.products.has(product)) throw noSuch("product", product, "product", 400);
      if (productData) {
        product = createProduct(state, {
          id: productData.str("id"),
          name: productData.reqStr("name"),
          active: productData.bool("active"),
          metadata: productData.metadata(),
          unitLabel: productData.str("unit_label"),
        }).id;
      }
      if (!product) throw missingParam("product");
      return createPrice(state, { ...input, product });
    },
  },
  {
    method: "GET",
    pattern: "/v1/prices",
    handler: ({ state, params }) => {
      const active = params.bool("active");
      const currency = params.str("currency")?.toLowerCase();
      const product = params.str("product");
      const type = params.enumOf("type", ["one_time", "recurring"] as const);
      const lookupKeys = params.strings("lookup_keys");
      if (lookupKeys && lookupKeys.length > 10) {
        throw invalidParam("lookup_keys", "You can pass up to 10 lookup keys.");
      }
      const recurring = params.obj("recurring");
      const interval = recurring?.str("interval");
      const usageType = recurring?.str("usage_type");
      const meter = recurring?.str("meter");
      const all = state
        .newestFirst(state.prices.values())
        .filter(
          (p) =>
            (active === undefined || p.active === active) &&
            (currency === undefined || p.currency === currency) &&
            (product === undefined || p.product === product) &&
            (type === undefined || p.type === type) &&
            (lookupKeys === undefined ||
              (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))) &&
            (interval === undefined || p.recurring?.interval === interval) &&
            (usageType === undefined || p.recurring?.usage_type === usageType) &&
            (meter === undefined || p.recurring?.meter === meter) &&
            matchesRange(params, "created", p.created),
        );
      return paginate(all, params, "/v1/prices");
    },
  },
  {
    method: "GET",
    pattern: "/v1/prices/:id",
    handler: ({ state, path }) => getPrice(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/prices/:id",
    handler: ({ state, params, path }) => {
      const price = getPrice(state, path.id ?? "");
      const before = structuredClone(price);
      const lookupKey = params.nullableStr("lookup_key");
      if (lookupKey)
        claimLookupKey(state, lookupKey, params.bool("transfer_lookup_key") ?? false, price.id);
      if (lookupKey !== undefined) price.lookup_key = lookupKey;
      const active = params.bool("active");
      if (active !== undefined) price.active = active;
      const nickname = params.nullableStr("nickname");
      if (nickname !== undefined) price.nickname = nickname;
      const taxBehavior = params.enumOf("tax_behavior", [
        "exclusive",
        "inclusive",
        "unspecified",
      ] as const);
      if (taxBehavior) price.tax_behavior = taxBehavior;
      price.metadata = params.metadata(price.metadata);
      const prev = previousAttributes(before, price);
      if (Object.keys(prev).length > 0) state.emit("price.updated", price, state.now(), prev);
      return price;
    },
  },
];
