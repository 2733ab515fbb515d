import { isMetered, priceInterval } from "../billing/prices.js";
import { changeItems, type ItemChange } from "../billing/prorations.js";
import { cancelSubscription, updateSubscription } from "../billing/subscription-status.js";
import { createSubscription, type PaymentBehavior } from "../billing/subscriptions.js";
import { invalidParam, invalidRequest, missingParam, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { renderItem, renderSubscription, subscriptionItems } from "../render.js";
import type { Route } from "../router.js";
import type { EmulatorState, ProrationBehavior, SubscriptionRecord } from "../state.js";
import type { WirePrice } from "../wire.js";
import { getCustomer } from "./customers.js";
import { customerPaymentMethod } from "./payment-methods.js";
import { createPrice, getPrice } from "./prices.js";

const PAYMENT_BEHAVIORS = [
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
] as const;
const PRORATION_BEHAVIORS = ["create_prorations", "none", "always_invoice"] as const;
const ENDED = ["canceled", "incomplete_expired"];

export function getSubscription(
  state: EmulatorState,
  id: string,
  param = "id",
): SubscriptionRecord {
  const sub = state.subscriptions.get(id);
  if (!sub) throw noSuch("subscription", id, param, param === "id" ? 404 : 400);
  return sub;
}

/** `price`, `plan` (legacy alias) or inline `price_data` for one item. */
function itemPrice(state: EmulatorState, params: Params): WirePrice | undefined {
  const id = params.str("price") ?? params.str("plan");
  const data = params.obj("price_data");
  if (id && data) {
    throw invalidRequest(
      "You may only specify one of these parameters: price, price_data.",
      params.name("price"),
    );
  }
  if (id) {
    const price = getPrice(state, id, params.name("price"));
    if (!price.active) {
      throw invalidParam(
        params.name("price"),
        `The price specified is inactive. This field only accepts active prices.`,
      );
    }
    if (price.type !== "recurring") {
      throw invalidParam(
        params.name("price"),
        "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
      );
    }
    return price;
  }
  if (!data) return undefined;
  const product = data.reqStr("product");
  if (!state.products.has(product)) throw noSuch("product", product, data.name("product"), 400);
  const recurring = data.obj("recurring");
  if (!recurring) throw missingParam(data.name("recurring"));
  const interval = recurring.enumOf("interval", ["day", "week", "month", "year"] as const);
  if (!interval) throw missingParam(recurring.name("interval"));
  const unitAmount = data.int("unit_amount");
  const decimal = data.str("unit_amount_decimal");
  if (unitAmount === undefined && decimal === undefined)
    throw missingParam(data.name("unit_amount"));
  // Inline prices are created inactive (https://docs.stripe.com/products-prices/pricing-models#inline-pricing).
  return createPrice(state, {
    product,
    currency: data.reqStr("currency").toLowerCase(),
    unitAmount: unitAmount ?? null,
    unitAmountDecimal: decimal ?? String(unitAmount),
    recurring: {
      interval,
      interval_count: recurring.int("interval_count") ?? 1,
      meter: null,
      trial_period_days: null,
      usage_type: "licensed",
    },
    lookupKey: null,
    transferLookupKey: false,
    nickname: null,
    metadata: {},
    active: false,
    taxBehavior: "unspecified",
  });
}

function assertCompatible(prices: { price: WirePrice; param: string }[]): void {
  const first = prices[0];
  if (!first) return;
  const seen = new Set<string>();
  for (const { price, param } of prices) {
    if (seen.has(price.id)) {
      throw invalidParam(
        param,
        `Cannot add multiple subscription items with the same plan: ${price.id}`,
      );
    }
    seen.add(price.id);
    if (price.currency !== first.price.currency) {
      throw invalidParam(
        param,
        "Currency and interval fields must match across all plans on this subscription. Found mismatch in currency field.",
      );
    }
    const a = priceInterval(price);
    const b = priceInterval(first.price);
    if (a.interval !== b.interval || a.count !== b.count) {
      throw invalidParam(
        param,
        "Currency and interval fields must match across all plans on this subscription. Found mismatch in interval field.",
      );
    }
  }
}

function quantityOf(params: Params, price: WirePrice): number | undefined {
  const quantity = params.int("quantity");
  if (quantity !== undefined && quantity < 0) {
    throw invalidParam(params.name("quantity"), "This value must be greater than or equal to 0.");
  }
  if (quantity !== undefined && isMetered(price)) {
    throw invalidParam(
      params.name("quantity"),
      "Quantity should not be specified where usage_type is `metered`. Remove quantity from the request.",
    );
  }
  return quantity;
}

function cancelAtOf(params: Params, periodEnd: number): number | null | undefined {
  if (!params.has("cancel_at")) return undefined;
  if (params.isEmpty("cancel_at")) return null;
  const raw = params.str("cancel_at");
  if (raw === "max_period_end" || raw === "min_period_end" || raw === "max_billed_until")
    return periodEnd;
  return params.int("cancel_at");
}

export function createSubscriptionFromParams(
  state: EmulatorState,
  params: Params,
): SubscriptionRecord {
  const customerId = params.reqStr("customer");
  getCustomer(state, customerId, "customer");
  const itemParams = params.objects("items");
  if (!itemParams || itemParams.length === 0) throw missingParam("items");
  const items = itemParams.map((p) => {
    const price = itemPrice(state, p);
    if (!price) throw missingParam(p.name("price"));
    return {
      price,
      param: p.name("price"),
      quantity: quantityOf(p, price),
      metadata: p.metadata(),
    };
  });
  assertCompatible(items);
  const at = state.nowFor(customerId);

  let trialEnd: number | null = null;
  const trialEndRaw = params.str("trial_end");
  const trialDays = params.int("trial_period_days");
  if (trialEndRaw !== undefined && trialEndRaw !== "now") {
    trialEnd = params.reqInt("trial_end");
    if (trialEnd <= at) {
      throw invalidParam(
        "trial_end",
        "Invalid timestamp: must be an integer Unix timestamp in the future.",
      );
    }
  } else if (trialDays !== undefined && trialEndRaw === undefined) {
    trialEnd = trialDays > 0 ? at + trialDays * 86_400 : null;
  } else if (params.bool("trial_from_plan")) {
    const days = items[0]?.price.recurring?.trial_period_days;
    trialEnd = days ? at + days * 86_400 : null;
  }

  const pmParam = params.str("default_payment_method");
  const defaultPaymentMethod = pmParam
    ? customerPaymentMethod(state, customerId, pmParam, "default_payment_method")
    : undefined;
  const collectionMethod =
    params.enumOf("collection_method", ["charge_automatically", "send_invoice"] as const) ??
    "charge_automatically";
  const cancelAt = cancelAtOf(params, Number.POSITIVE_INFINITY);
  const cancelAtPeriodEnd = params.bool("cancel_at_period_end") ?? false;
  const sub = createSubscription(
    state,
    {
      customer: customerId,
      items: items.map((i) => ({ price: i.price.id, quantity: i.quantity, metadata: i.metadata })),
      metadata: params.metadata(),
      description: params.str("description") ?? null,
      trialEnd,
      cancelAtPeriodEnd,
      cancelAt: cancelAt === Number.POSITIVE_INFINITY || cancelAt === undefined ? null : cancelAt,
      defaultPaymentMethod: defaultPaymentMethod ?? null,
      paymentBehavior: (params.enumOf("payment_behavior", PAYMENT_BEHAVIORS) ??
        "allow_incomplete") as PaymentBehavior,
      collectionMethod,
      daysUntilDue:
        params.int("days_until_due") ?? (collectionMethod === "send_invoice" ? 30 : null),
    },
    at,
  );
  if (cancelAt === Number.POSITIVE_INFINITY) {
    const end = subscriptionItems(state, sub.id)[0]?.current_period_end ?? null;
    sub.cancel_at = end;
    sub.canceled_at = at;
  }
  return sub;
}

function readItemChanges(
  state: EmulatorState,
  sub: SubscriptionRecord,
  params: Params,
): ItemChange[] {
  const entries = params.objects("items") ?? [];
  const changes: ItemChange[] = [];
  const existing = subscriptionItems(state, sub.id);
  for (const entry of entries) {
    const id = entry.str("id");
    if (id && !existing.some((item) => item.id === id)) {
      throw noSuch("subscription_item", id, entry.name("id"), 400);
    }
    const deleted = entry.bool("deleted") ?? false;
    const price = deleted ? undefined : itemPrice(state, entry);
    if (!id && !price) throw missingParam(entry.name("price"));
    const effectivePrice =
      price ?? (id ? state.prices.get(state.items.get(id)?.price ?? "") : undefined);
    changes.push({
      id,
      price: price?.id,
      quantity: effectivePrice ? quantityOf(entry, effectivePrice) : undefined,
      deleted,
      metadata: entry.has("metadata")
        ? entry.metadata(id ? state.items.get(id)?.metadata : {})
        : undefined,
    });
  }
  assertItemSet(state, sub, changes);
  return changes;
}

/** The resulting item set must still be one currency and one interval, without duplicates. */
function assertItemSet(state: EmulatorState, sub: SubscriptionRecord, changes: ItemChange[]): void {
  const result = new Map(subscriptionItems(state, sub.id).map((item) => [item.id, item.price]));
  changes.forEach((change, i) => {
    if (change.id && change.deleted) result.delete(change.id);
    else if (change.id && change.price) result.set(change.id, change.price);
    else if (!change.id && change.price) result.set(`new_${i}`, change.price);
  });
  if (result.size === 0) {
    throw invalidRequest("A subscription must have at least one active plan.", "items");
  }
  assertCompatible(
    [...result.values()].map((priceId) => ({ price: getPrice(state, priceId), param: "items" })),
  );
}

export function updateSubscriptionFromParams(
  state: EmulatorState,
  sub: SubscriptionRecord,
  params: Params,
): SubscriptionRecord {
  const customerId = typeof sub.customer === "string" ? sub.customer : "";
  const at = state.nowFor(customerId);
  const details = params.obj("cancellation_details");
  if (ENDED.includes(sub.status)) {
    const allowed = new Set(["metadata", "cancellation_details", "expand"]);
    if (Object.keys(params.raw).some((key) => !allowed.has(key))) {
      throw invalidRequest(
        "A canceled subscription can only update its cancellation_details and metadata.",
      );
    }
  }
  const changes = params.has("items") ? readItemChanges(state, sub, params) : [];
  const behavior: ProrationBehavior =
    params.enumOf("proration_behavior", PRORATION_BEHAVIORS) ?? "create_prorations";
  const prorationDate = params.int("proration_date");
  const periodEnd = subscriptionItems(state, sub.id)[0]?.current_period_end ?? at;
  const cancelAt = cancelAtOf(params, periodEnd);
  const cancelAtPeriodEnd = params.bool("cancel_at_period_end");
  const trialEndRaw = params.str("trial_end");
  const trialEnd =
    trialEndRaw === undefined || trialEndRaw === "now" ? undefined : params.reqInt("trial_end");
  if (trialEnd !== undefined && trialEnd <= at) {
    throw invalidParam(
      "trial_end",
      "Invalid timestamp: must be an integer Unix timestamp in the future.",
    );
  }
  if (trialEnd !== undefined && sub.status !== "trialing") {
    throw invalidRequest(
      "The Stripe emulator can only change trial_end while a subscription is trialing.",
      "trial_end",
    );
  }
  const pmParam = params.nullableStr("default_payment_method");
  const paymentMethod = pmParam
    ? customerPaymentMethod(
        state,
        typeof sub.customer === "string" ? sub.customer : "",
        pmParam,
        "default_payment_method",
      )
    : pmParam;

  updateSubscription(state, sub, at, (s) => {
    s.metadata = params.metadata(s.metadata);
    const description = params.nullableStr("description");
    if (description !== undefined) s.description = description;
    if (paymentMethod !== undefined) s.default_payment_method = paymentMethod;
    if (details) {
      s.cancellation_details = {
        comment: details.nullableStr("comment") ?? s.cancellation_details?.comment ?? null,
        feedback: (details.nullableStr("feedback") ??
          s.cancellation_details?.feedback ??
          null) as never,
        feedback_option: s.cancellation_details?.feedback_option ?? null,
        reason: s.cancellation_details?.reason ?? null,
      };
    }
    if (changes.length > 0) changeItems(state, s, changes, behavior, at, prorationDate);
    const items = subscriptionItems(state, s.id);
    const end = items[0]?.current_period_end ?? at;
    // cancel_at_period_end sets cancel_at to the period end; clearing it resumes
    // (https://docs.stripe.com/billing/subscriptions/cancel#cancel-at-end-of-cycle).
    if (cancelAtPeriodEnd === true) {
      s.cancel_at_period_end = true;
      s.cancel_at = end;
    } else if (cancelAtPeriodEnd === false) {
      s.cancel_at_period_end = false;
      s.cancel_at = null;
    }
    if (cancelAt !== undefined) {
      s.cancel_at = cancelAt;
      s.cancel_at_period_end = cancelAt !== null && cancelAt === end;
    }
    if (cancelAtPeriodEnd !== undefined || cancelAt !== undefined) {
      const scheduled = s.cancel_at !== null;
      s.canceled_at = scheduled ? at : null;
      s.cancellation_details = {
        comment: s.cancellation_details?.comment ?? null,
        feedback: s.cancellation_details?.feedback ?? null,
        feedback_option: s.cancellation_details?.feedback_option ?? null,
        reason: scheduled ? "cancellation_requested" : null,
      };
    }
    if (trialEndRaw === "now" && s.status === "trialing") {
      // Ends the trial now: the renewal that follows starts a paid period anchored here.
      s.trial_end = at;
      for (const item of items) item.current_period_end = at;
    } else if (trialEnd !== undefined) {
      s.trial_end = trialEnd;
      for (const item of items) item.current_period_end = trialEnd;
    }
  });
  return sub;
}

function listSubscriptions(state: EmulatorState, params: Params) {
  const customer = params.str("customer");
  const price = params.str("price") ?? params.str("plan");
  const status = params.str("status");
  const testClock = params.str("test_clock");
  const all = state
    .newestFirst(state.subscriptions.values())
    .filter((s) => {
      if (customer !== undefined && s.customer !== customer) return false;
      if (testClock !== undefined && s.test_clock !== testClock) return false;
      if (price !== undefined && !subscriptionItems(state, s.id).some((i) => i.price === price))
        return false;
      // Without `status`, canceled subscriptions are left out (https://docs.stripe.com/api/subscriptions/list#list_subscriptions-status).
      if (status === undefined) return !ENDED.includes(s.status);
      if (status === "all") return true;
      if (status === "ended") return ENDED.includes(s.status);
      return s.status === status;
    })
    .filter((s) => matchesRange(params, "created", s.created))
    .map((s) => renderSubscription(state, s));
  return paginate(all, params, "/v1/subscriptions");
}

function cancelNow(state: EmulatorState, sub: SubscriptionRecord, params: Params) {
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      `A canceled subscription can't be canceled again: ${sub.id}`,
      undefined,
      "resource_missing",
    );
  }
  const at = state.nowFor(typeof sub.customer === "string" ? sub.customer : null);
  const details = params.obj("cancellation_details");
  if (details) {
    sub.cancellation_details = {
      comment: details.nullableStr("comment") ?? null,
      feedback: (details.nullableStr("feedback") ?? null) as never,
      feedback_option: null,
      reason: null,
    };
  }
  sub.canceled_at = at;
  cancelSubscription(state, sub, at, "cancellation_requested");
  return renderSubscription(state, sub);
}

export const subscriptionRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/subscriptions",
    handler: ({ state, params }) =>
      renderSubscription(state, createSubscriptionFromParams(state, params)),
  },
  {
    method: "GET",
    pattern: "/v1/subscriptions",
    handler: ({ state, params }) => listSubscriptions(state, params),
  },
  {
    method: "GET",
    pattern: "/v1/subscriptions/:id",
    handler: ({ state, path }) => renderSubscription(state, getSubscription(state, path.id ?? "")),
  },
  {
    method: "POST",
    pattern: "/v1/subscriptions/:id",
    handler: ({ state, params, path, settle }) => {
      const sub = updateSubscriptionFromParams(
        state,
        getSubscription(state, path.id ?? ""),
        params,
      );
      settle();
      return renderSubscription(state, sub);
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/subscriptions/:id",
    handler: ({ state, params, path }) =>
      cancelNow(state, getSubscription(state, path.id ?? ""), params),
  },
  // Subscription items
  {
    method: "GET",
    pattern: "/v1/subscription_items",
    handler: ({ state, params }) => {
      const subId = params.reqStr("subscription");
      getSubscription(state, subId, "subscription");
      const items = subscriptionItems(state, subId)
        .reverse()
        .map((item) => renderItem(state, item));
      return paginate(items, params, `/v1/subscription_items`);
    },
  },
  {
    method: "GET",
    pattern: "/v1/subscription_items/:id",
    handler: ({ state, path }) => {
      const item = state.items.get(path.id ?? "");
      if (!item) throw noSuch("subscription_item", path.id ?? "");
      return renderItem(state, item);
    },
  },
  {
    method: "POST",
    pattern: "/v1/subscription_items",
    handler: ({ state, params }) => {
      const sub = getSubscription(state, params.reqStr("subscription"), "subscription");
      const price = itemPrice(state, params);
      if (!price) throw missingParam("price");
      const before = new Set(subscriptionItems(state, sub.id).map((i) => i.id));
      const change: ItemChange = {
        price: price.id,
        quantity: quantityOf(params, price),
        metadata: params.metadata(),
      };
      mutateItems(state, sub, [change], params);
      const created = subscriptionItems(state, sub.id).find((i) => !before.has(i.id));
      if (!created) throw new Error("item not created");
      return renderItem(state, created);
    },
  },
  {
    method: "POST",
    pattern: "/v1/subscription_items/:id",
    handler: ({ state, params, path }) => {
      const item = state.items.get(path.id ?? "");
      if (!item) throw noSuch("subscription_item", path.id ?? "");
      const sub = getSubscription(state, item.subscription);
      const price = itemPrice(state, params);
      const effective = price ?? getPrice(state, item.price);
      mutateItems(
        state,
        sub,
        [
          {
            id: item.id,
            price: price?.id,
            quantity: quantityOf(params, effective),
            metadata: params.has("metadata") ? params.metadata(item.metadata) : undefined,
          },
        ],
        params,
      );
      return renderItem(state, item);
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/subscription_items/:id",
    handler: ({ state, params, path }) => {
      const item = state.items.get(path.id ?? "");
      if (!item) throw noSuch("subscription_item", path.id ?? "");
      const sub = getSubscription(state, item.subscription);
      if (subscriptionItems(state, sub.id).length === 1) {
        throw invalidRequest(
          "A subscription must have at least one active plan. To cancel a subscription, delete the subscription instead.",
        );
      }
      mutateItems(state, sub, [{ id: item.id, deleted: true }], params);
      return { id: item.id, object: "subscription_item", deleted: true };
    },
  },
];

function mutateItems(
  state: EmulatorState,
  sub: SubscriptionRecord,
  changes: ItemChange[],
  params: Params,
): void {
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
  }
  assertItemSet(state, sub, changes);
  const at = state.nowFor(typeof sub.customer === "string" ? sub.customer : null);
  const behavior: ProrationBehavior =
    params.enumOf("proration_behavior", PRORATION_BEHAVIORS) ?? "create_prorations";
  updateSubscription(state, sub, at, (s) => {
    changeItems(state, s, changes, behavior, at, params.int("proration_date"));
  });
}
