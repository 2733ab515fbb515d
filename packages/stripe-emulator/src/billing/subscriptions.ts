import { cardDeclined } from "../errors.js";
import { ID_PREFIX, newId } from "../random.js";
import { renderSubscription, subscriptionItems } from "../render.js";
import type { EmulatorState, ItemRecord, SubscriptionRecord } from "../state.js";
import { addInterval, nextBoundary } from "../time.js";
import type { Stripe, WirePrice } from "../wire.js";
import {
  customerIdOf,
  type LineSpec,
  licensedLine,
  meteredLine,
  takePendingItems,
} from "./lines.js";
import { issueInvoice, paymentOutcome } from "./payments.js";
import { isMetered, priceInterval, priceOf, unitAmount } from "./prices.js";
import { cancelSubscription, updateSubscription } from "./subscription-status.js";

// Subscriptions: creation with the first invoice, items, and the renewal at period end.

/** https://docs.stripe.com/billing/subscriptions/overview#payment-window */
const INCOMPLETE_WINDOW = 23 * 3600;

export type PaymentBehavior =
  | "allow_incomplete"
  | "default_incomplete"
  | "error_if_incomplete"
  | "pending_if_incomplete";

export interface NewSubscription {
  customer: string;
  items: { price: string; quantity: number | undefined; metadata: Record<string, string> }[];
  metadata: Record<string, string>;
  description: string | null;
  trialEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  defaultPaymentMethod: string | null;
  paymentBehavior: PaymentBehavior;
  collectionMethod: "charge_automatically" | "send_invoice";
  daysUntilDue: number | null;
}

export function createSubscription(
  state: EmulatorState,
  input: NewSubscription,
  at: number,
): SubscriptionRecord {
  const prices = input.items.map((item) => priceOf(state, item.price));
  const first = prices[0];
  if (!first) throw new Error("subscription needs items");
  const { interval, count } = priceInterval(first);
  const trialing = input.trialEnd !== null && input.trialEnd > at;
  const periodStart = at;
  const periodEnd = trialing ? (input.trialEnd as number) : addInterval(at, interval, count);
  const id = newId(ID_PREFIX.subscription);
  const invoiceId = newId(ID_PREFIX.invoice);
  const clock = state.clockOf(input.customer);

  const licensedTotal = trialing
    ? 0
    : input.items.reduce((sum, item, i) => {
        const price = prices[i] as WirePrice;
        return isMetered(price) ? sum : sum + Math.round(unitAmount(price) * (item.quantity ?? 1));
      }, 0);
  const willCharge = licensedTotal > 0 && input.collectionMethod === "charge_automatically";
  const outcome = willCharge
    ? paymentOutcome(state, input.customer, input.defaultPaymentMethod)
    : "succeed";
  if (outcome === "fail" && input.paymentBehavior === "error_if_incomplete") {
    throw cardDeclined();
  }
  const deferred = input.paymentBehavior === "default_incomplete" && willCharge;
  const status: Stripe.Subscription.Status = trialing
    ? "trialing"
    : deferred || outcome === "fail"
      ? "incomplete"
      : "active";

  const sub: SubscriptionRecord = {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: trialing ? periodEnd : at,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "flexible", flexible: { proration_discounts: "included" } },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: input.cancelAtPeriodEnd ? periodEnd : input.cancelAt,
    cancel_at_period_end: input.cancelAtPeriodEnd,
    canceled_at: input.cancelAtPeriodEnd || input.cancelAt !== null ? at : null,
    cancellation_details: {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: input.cancelAtPeriodEnd || input.cancelAt !== null ? "cancellation_requested" : null,
    },
    collection_method: input.collectionMethod,
    created: at,
    currency: first.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: input.daysUntilDue,
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    latest_invoice: invoiceId,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: at,
    status,
    test_clock: clock?.id ?? null,
    transfer_data: null,
    trial_end: trialing ? input.trialEnd : null,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" },
    },
    trial_start: trialing ? at : null,
  };
  state.subscriptions.set(id, sub);
  state.track(id);
  state.subInternal.set(id, {
    incompleteExpiresAt: status === "incomplete" ? at + INCOMPLETE_WINDOW : null,
    trialWillEndSentFor: null,
  });
  const items = input.items.map((item) => addItem(state, sub, item, at, periodStart, periodEnd));
  state.emit("customer.subscription.created", renderSubscription(state, sub), at);

  const period = { start: periodStart, end: periodEnd };
  const lines = items
    .filter((item) => !isMetered(priceOf(state, item.price)))
    .map((item) => licensedLine(state, item, period, trialing));
  issueInvoice(state, {
    id: invoiceId,
    customer: input.customer,
    subscription: sub,
    billingReason: "subscription_create",
    lines,
    periodStart: at,
    periodEnd: at,
    at,
    finalize: true,
    attempt: !deferred,
  });
  return sub;
}

export function addItem(
  state: EmulatorState,
  sub: SubscriptionRecord,
  input: { price: string; quantity: number | undefined; metadata: Record<string, string> },
  at: number,
  periodStart: number,
  periodEnd: number,
): ItemRecord {
  const price = priceOf(state, input.price);
  const item: ItemRecord = {
    id: newId(ID_PREFIX.subscriptionItem, 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: at,
    current_period_end: periodEnd,
    current_period_start: periodStart,
    current_trial: null,
    discounts: [],
    metadata: input.metadata,
    price: price.id,
    // Metered items carry no quantity (https://docs.stripe.com/api/subscription_items/object).
    quantity: isMetered(price) ? undefined : (input.quantity ?? 1),
    subscription: sub.id,
    tax_rates: [],
  };
  state.items.set(item.id, item);
  state.track(item.id);
  return item;
}

/** Period end: a new invoice for the next period (licensed in advance, metered in arrears). */
export function renew(state: EmulatorState, sub: SubscriptionRecord, at: number): void {
  const items = subscriptionItems(state, sub.id);
  const first = items[0];
  if (!first) {
    cancelSubscription(state, sub, at, "cancellation_requested");
    return;
  }
  const oldPeriod = { start: first.current_period_start, end: first.current_period_end };
  const wasTrialing = sub.status === "trialing";
  const { interval, count } = priceInterval(priceOf(state, first.price));
  updateSubscription(state, sub, at, (s) => {
    if (wasTrialing) {
      s.billing_cycle_anchor = oldPeriod.end;
      s.status = "active";
    }
    const end = nextBoundary(s.billing_cycle_anchor, interval, count, oldPeriod.end);
    for (const item of items) {
      item.current_period_start = oldPeriod.end;
      item.current_period_end = end;
    }
  });
  const newPeriod = { start: first.current_period_start, end: first.current_period_end };
  const lines: LineSpec[] = [];
  for (const item of items) {
    const price = priceOf(state, item.price);
    if (!isMetered(price)) lines.push(licensedLine(state, item, newPeriod, false));
    else if (!wasTrialing) lines.push(meteredLine(state, sub, item, oldPeriod));
  }
  lines.push(...takePendingItems(state, customerIdOf(sub), sub.id));
  const unpaid = sub.status === "unpaid";
  const statusBefore = sub.status;
  const { paid } = issueInvoice(state, {
    customer: customerIdOf(sub),
    subscription: sub,
    billingReason: "subscription_cycle",
    lines,
    periodStart: oldPeriod.start,
    periodEnd: oldPeriod.end,
    at,
    // Invoices of `unpaid` subscriptions stay drafts (https://docs.stripe.com/billing/subscriptions/overview#unpaid-subscriptions).
    finalize: !unpaid,
    attempt: sub.collection_method === "charge_automatically",
  });
  // `send_invoice` invoices wait for the customer; only a failed automatic charge is past_due.
  const charged = sub.collection_method === "charge_automatically";
  if (charged && !paid && !unpaid && sub.status === "active" && statusBefore === sub.status) {
    updateSubscription(state, sub, at, (s) => {
      s.status = "past_due";
    });
  }
}
