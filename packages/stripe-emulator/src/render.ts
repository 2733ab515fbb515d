import type { EmulatorState, ItemRecord, SubscriptionRecord } from "./state.js";
import type {
  JsonObject,
  ListObject,
  WireCheckoutSession,
  WirePlan,
  WirePrice,
  WireSubscription,
  WireSubscriptionItem,
} from "./wire.js";

export function list<T>(data: T[], url: string, hasMore = false): ListObject<T> {
  return { object: "list", data, has_more: hasMore, url };
}

/** Subscription items embed a legacy `plan` mirroring the price. */
export function renderPlan(price: WirePrice): WirePlan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? "month",
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: price.tiers_mode,
    transform_usage: null,
    trial_period_days: recurring?.trial_period_days ?? null,
    usage_type: recurring?.usage_type ?? "licensed",
  };
}

export function renderItem(state: EmulatorState, item: ItemRecord): WireSubscriptionItem {
  const price = state.prices.get(item.price);
  if (!price) throw new Error(`price ${item.price} vanished`);
  return { ...structuredClone(item), price: structuredClone(price), plan: renderPlan(price) };
}

export function subscriptionItems(state: EmulatorState, subscriptionId: string): ItemRecord[] {
  return [...state.items.values()]
    .filter((item) => item.subscription === subscriptionId)
    .sort((a, b) => a.created - b.created);
}

export function renderSubscription(
  state: EmulatorState,
  sub: SubscriptionRecord,
): WireSubscription {
  const items = subscriptionItems(state, sub.id).map((item) => renderItem(state, item));
  return {
    ...structuredClone(sub),
    items: list(items, `/v1/subscription_items?subscription=${sub.id}`),
  };
}

export function renderCheckoutSession(
  state: EmulatorState,
  id: string,
): WireCheckoutSession | undefined {
  const record = state.checkoutSessions.get(id);
  return record ? structuredClone(record.session) : undefined;
}

/** Looks any emulated object up by id (used by `expand[]`). */
export function lookupObject(state: EmulatorState, id: string): JsonObject | undefined {
  const found = (() => {
    if (id.startsWith("cus_")) return state.customers.get(id);
    if (id.startsWith("prod_")) return state.products.get(id);
    if (id.startsWith("price_")) return state.prices.get(id);
    if (id.startsWith("sub_")) {
      const sub = state.subscriptions.get(id);
      return sub && renderSubscription(state, sub);
    }
    if (id.startsWith("si_")) {
      const item = state.items.get(id);
      return item && renderItem(state, item);
    }
    if (id.startsWith("in_")) return state.invoices.get(id);
    if (id.startsWith("cs_")) return renderCheckoutSession(state, id);
    if (id.startsWith("mtr_")) return state.meters.get(id);
    if (id.startsWith("clock_")) return state.testClocks.get(id);
    if (id.startsWith("bps_")) return state.portalSessions.get(id);
    if (id.startsWith("evt_")) return state.events.get(id);
    if (id.startsWith("pm_")) return state.paymentMethods.get(id);
    // Products may carry caller-chosen ids (`prod_` is only the generated default).
    return state.products.get(id);
  })();
  return found ? (structuredClone(found) as JsonObject) : undefined;
}
