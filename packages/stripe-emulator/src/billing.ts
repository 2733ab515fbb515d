import { cardDeclined } from "./errors.js";
import { ID_PREFIX, newId, randomString } from "./random.js";
import { renderSubscription, subscriptionItems } from "./render.js";
import { declines } from "./resources/payment-methods.js";
import {
  type EmulatorState,
  type InvoiceItemRecord,
  type ItemRecord,
  type PaymentOutcome,
  previousAttributes,
  type SubscriptionRecord,
} from "./state.js";
import { addInterval, formatDate, type Interval, nextBoundary } from "./time.js";
import type { Stripe, WireInvoice, WireInvoiceLineItem, WirePrice } from "./wire.js";

const DAY = 86_400;
/** https://docs.stripe.com/billing/subscriptions/overview#payment-window */
const INCOMPLETE_WINDOW = 23 * 3600;
/** https://docs.stripe.com/billing/subscriptions/trials#compliance: three days before trial end. */
const TRIAL_WILL_END_LEAD = 3 * DAY;

export type PaymentBehavior =
  | "allow_incomplete"
  | "default_incomplete"
  | "error_if_incomplete"
  | "pending_if_incomplete";

const TERMINAL: readonly string[] = ["canceled", "incomplete_expired"];

// ---------------------------------------------------------------------------------------------
// Prices and amounts

export function priceInterval(price: WirePrice): { interval: Interval; count: number } {
  return {
    interval: (price.recurring?.interval ?? "month") as Interval,
    count: price.recurring?.interval_count ?? 1,
  };
}

export function isMetered(price: WirePrice): boolean {
  return price.recurring?.usage_type === "metered";
}

export function unitAmount(price: WirePrice): number {
  if (price.unit_amount !== null) return price.unit_amount;
  return Number(price.unit_amount_decimal ?? 0);
}

function productName(state: EmulatorState, price: WirePrice): string {
  const product = typeof price.product === "string" ? state.products.get(price.product) : undefined;
  return product?.name ?? price.nickname ?? price.id;
}

export function formatMoney(amount: number, currency: string): string {
  const value = (amount / 100).toFixed(2);
  return currency.toLowerCase() === "usd" ? `$${value}` : `${value} ${currency.toUpperCase()}`;
}

function priceOf(state: EmulatorState, id: string): WirePrice {
  const price = state.prices.get(id);
  if (!price) throw new Error(`price ${id} vanished`);
  return price;
}

// ---------------------------------------------------------------------------------------------
// Payment methods

/**
 * Stripe's test payment methods decide the outcome: `pm_card_chargeCustomerFail` attaches but
 * every charge fails (https://docs.stripe.com/testing#declined-payments). A per-customer
 * override (`setPaymentOutcome`) wins over the payment method.
 */
export function paymentOutcome(
  state: EmulatorState,
  customerId: string,
  subscriptionPaymentMethod: string | null,
): PaymentOutcome {
  const override = state.paymentOutcomes.get(customerId);
  if (override) return override;
  const customer = state.customers.get(customerId);
  const customerPm = customer?.invoice_settings.default_payment_method;
  const pm = subscriptionPaymentMethod ?? (typeof customerPm === "string" ? customerPm : null);
  if (pm) return declines(state, pm) ? "fail" : "succeed";
  return state.config.requirePaymentMethod ? "fail" : "succeed";
}

// ---------------------------------------------------------------------------------------------
// Invoices

export interface LineSpec {
  amount: number;
  currency: string;
  description: string;
  /** Null for invoice items created with a bare `amount`. */
  price: WirePrice | null;
  quantity: number;
  period: { start: number; end: number };
  subscriptionItem: string | null;
  invoiceItem: string | null;
  proration: boolean;
}

function licensedLine(
  state: EmulatorState,
  item: ItemRecord,
  period: { start: number; end: number },
  trial: boolean,
): LineSpec {
  const price = priceOf(state, item.price);
  const quantity = item.quantity ?? 1;
  const { interval } = priceInterval(price);
  const name = productName(state, price);
  return {
    amount: trial ? 0 : Math.round(unitAmount(price) * quantity),
    description: trial
      ? `Trial period for ${name}`
      : `${quantity} × ${name} (at ${formatMoney(unitAmount(price), price.currency)} / ${interval})`,
    currency: price.currency,
    price,
    quantity,
    period,
    subscriptionItem: item.id,
    invoiceItem: null,
    proration: false,
  };
}

/** Usage of a metered item over a period, billed in arrears from the meter's aggregation. */
function meteredLine(
  state: EmulatorState,
  sub: SubscriptionRecord,
  item: ItemRecord,
  period: { start: number; end: number },
): LineSpec {
  const price = priceOf(state, item.price);
  const meterId = price.recurring?.meter ?? null;
  const usage = meterId
    ? aggregateUsage(state, meterId, customerIdOf(sub), period.start, period.end)
    : 0;
  const quantity = Math.max(0, usage);
  return {
    amount: Math.round(quantity * unitAmount(price)),
    description: `${quantity} × ${productName(state, price)} (Tier 1 at ${formatMoney(unitAmount(price), price.currency)} / ${price.recurring?.interval ?? "month"})`,
    currency: price.currency,
    price,
    quantity,
    period,
    subscriptionItem: item.id,
    invoiceItem: null,
    proration: false,
  };
}

/** Meter aggregation (`sum`, `count`, `last`) over [start, end). */
export function aggregateUsage(
  state: EmulatorState,
  meterId: string,
  customerId: string,
  start: number,
  end: number,
): number {
  const meter = state.meters.get(meterId);
  if (!meter) return 0;
  const events = state.meterEvents
    .filter(
      (e) =>
        e.eventName === meter.event_name &&
        e.customer === customerId &&
        e.timestamp >= start &&
        e.timestamp < end,
    )
    .sort((a, b) => a.timestamp - b.timestamp);
  switch (meter.default_aggregation.formula) {
    case "count":
      return events.length;
    case "last":
      return events.at(-1)?.value ?? 0;
    default:
      return events.reduce((sum, e) => sum + e.value, 0);
  }
}

function customerIdOf(sub: { customer: unknown }): string {
  return typeof sub.customer === "string" ? sub.customer : "";
}

export interface IssueInvoice {
  id?: string;
  customer: string;
  /** Null for one-off invoices (`POST /v1/invoices`). */
  subscription: SubscriptionRecord | null;
  currency?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  billingReason: Stripe.Invoice.BillingReason;
  lines: LineSpec[];
  periodStart: number;
  periodEnd: number;
  at: number;
}

function buildLine(invoiceId: string, subId: string | null, spec: LineSpec): WireInvoiceLineItem {
  return {
    id: newId(ID_PREFIX.invoiceLine),
    object: "line_item",
    amount: spec.amount,
    currency: spec.currency,
    description: spec.description,
    discount_amounts: [],
    discountable: !spec.proration,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: spec.invoiceItem
      ? {
          type: "invoice_item_details",
          invoice_item_details: {
            invoice_item: spec.invoiceItem,
            proration: spec.proration,
            proration_details: { credited_items: null },
            subscription: subId,
          },
          subscription_item_details: null,
        }
      : {
          type: "subscription_item_details",
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: spec.proration,
            proration_details: { credited_items: null },
            subscription: subId,
            subscription_item: spec.subscriptionItem ?? "",
          },
        },
    period: spec.period,
    pretax_credit_amounts: [],
    pricing: spec.price
      ? {
          type: "price_details",
          price_details: {
            price: spec.price.id,
            product:
              typeof spec.price.product === "string" ? spec.price.product : spec.price.product.id,
          },
          unit_amount_decimal: spec.price.unit_amount_decimal,
        }
      : null,
    quantity: spec.quantity,
    quantity_decimal: String(spec.quantity),
    subscription: subId,
    subtotal: spec.amount,
    taxes: [],
  };
}

/** Creates a draft invoice (emits `invoice.created`). */
export function createInvoice(state: EmulatorState, input: IssueInvoice): WireInvoice {
  const customer = state.customers.get(input.customer);
  const id = input.id ?? newId(ID_PREFIX.invoice);
  const sub = input.subscription;
  const lines = input.lines.map((spec) => buildLine(id, sub?.id ?? null, spec));
  for (const spec of input.lines) {
    const item = spec.invoiceItem ? state.invoiceItems.get(spec.invoiceItem) : undefined;
    if (item) item.invoice = id;
  }
  const collectionMethod = sub?.collection_method ?? "charge_automatically";
  const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
  const invoice: WireInvoice = {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "Tenantry Stripe Emulator",
    account_tax_ids: null,
    amount_due: Math.max(0, subtotal),
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: Math.max(0, subtotal),
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    // One-off invoices created through the API wait for an explicit finalize.
    auto_advance: sub !== null,
    automatic_tax: {
      disabled_reason: null,
      enabled: false,
      liability: null,
      provider: null,
      status: null,
    },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: collectionMethod,
    created: input.at,
    currency: sub?.currency ?? input.currency ?? "usd",
    custom_fields: null,
    customer: input.customer,
    customer_account: null,
    customer_address: customer?.address ?? null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: customer?.tax_exempt ?? "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: input.description ?? null,
    discounts: [],
    due_date:
      collectionMethod === "send_invoice" ? input.at + (sub?.days_until_due ?? 30) * DAY : null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: lines,
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: input.metadata ?? {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: sub
      ? {
          type: "subscription_details",
          quote_details: null,
          subscription_details: { metadata: structuredClone(sub.metadata), subscription: sub.id },
        }
      : null,
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: customer?.balance ?? 0,
    statement_descriptor: null,
    status: "draft",
    status_transitions: {
      finalized_at: null,
      marked_uncollectible_at: null,
      paid_at: null,
      voided_at: null,
    },
    subtotal,
    subtotal_excluding_tax: subtotal,
    test_clock: sub?.test_clock ?? customer?.test_clock ?? null,
    total: subtotal,
    total_discount_amounts: [],
    total_excluding_tax: subtotal,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
  state.invoices.set(id, invoice);
  state.track(id);
  state.emit("invoice.created", invoice, input.at);
  return invoice;
}

/**
 * Finalizing numbers the invoice and applies the customer's credit balance (negative balance),
 * so prorated credits reduce the next amount due (https://docs.stripe.com/billing/customer/balance).
 */
export function finalizeInvoice(state: EmulatorState, invoice: WireInvoice, at: number): void {
  const customerId = customerIdOf(invoice);
  const customer = state.customers.get(customerId);
  if (customer) {
    const sequence = customer.next_invoice_sequence ?? 1;
    invoice.number = `${customer.invoice_prefix ?? "EMU"}-${String(sequence).padStart(4, "0")}`;
    customer.next_invoice_sequence = sequence + 1;
    const starting = customer.balance;
    let balance = starting;
    let due = invoice.total;
    if (due < 0) {
      balance += due;
      due = 0;
    } else if (balance < 0) {
      const applied = Math.min(-balance, due);
      balance += applied;
      due -= applied;
    }
    customer.balance = balance;
    invoice.starting_balance = starting;
    invoice.ending_balance = balance;
    invoice.amount_due = due;
    invoice.amount_remaining = due;
  }
  invoice.status = "open";
  invoice.effective_at = at;
  invoice.status_transitions.finalized_at = at;
  state.emit("invoice.finalized", invoice, at);
}

function subscriptionOf(
  state: EmulatorState,
  invoice: WireInvoice,
): SubscriptionRecord | undefined {
  const ref = invoice.parent?.subscription_details?.subscription;
  return typeof ref === "string" ? state.subscriptions.get(ref) : undefined;
}

/**
 * One payment attempt. Returns true when the invoice ends up paid. Automatic attempts on
 * renewal invoices schedule the next retry (the dunning rule in `DunningOptions`).
 */
export function attemptInvoicePayment(
  state: EmulatorState,
  invoice: WireInvoice,
  at: number,
  automatic: boolean,
  paymentMethod: string | null = null,
): boolean {
  if (invoice.status !== "open") return invoice.status === "paid";
  const sub = subscriptionOf(state, invoice);
  const customerId = customerIdOf(invoice);
  const pm =
    paymentMethod ??
    (typeof sub?.default_payment_method === "string" ? sub.default_payment_method : null);
  const outcome = invoice.amount_due === 0 ? "succeed" : paymentOutcome(state, customerId, pm);
  invoice.attempted = invoice.amount_due > 0 || invoice.attempted;
  if (invoice.amount_due > 0) invoice.attempt_count += 1;
  if (outcome === "succeed") {
    invoice.status = "paid";
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = at;
    state.emit("invoice.paid", invoice, at);
    state.emit("invoice.payment_succeeded", invoice, at);
    if (sub) onLatestInvoicePaid(state, sub, invoice, at);
    return true;
  }
  const retries = state.config.dunning.retryDays;
  const isRenewal = invoice.billing_reason !== "subscription_create";
  if (automatic && isRenewal && sub?.collection_method === "charge_automatically") {
    const next = retries[invoice.attempt_count - 1];
    invoice.next_payment_attempt = next === undefined ? null : at + next * DAY;
  }
  state.emit("invoice.payment_failed", invoice, at);
  if (automatic && isRenewal && sub && invoice.next_payment_attempt === null) {
    applyFinalDunningAction(state, sub, invoice, at);
  }
  return false;
}

function onLatestInvoicePaid(
  state: EmulatorState,
  sub: SubscriptionRecord,
  invoice: WireInvoice,
  at: number,
): void {
  if (sub.latest_invoice !== invoice.id) return;
  if (["past_due", "unpaid", "incomplete"].includes(sub.status)) {
    updateSubscription(state, sub, at, (s) => {
      s.status = "active";
    });
    const internal = state.subInternal.get(sub.id);
    if (internal) internal.incompleteExpiresAt = null;
  }
}

/** After the last retry: Billing settings' "if all retries fail" (https://docs.stripe.com/billing/revenue-recovery/smart-retries). */
function applyFinalDunningAction(
  state: EmulatorState,
  sub: SubscriptionRecord,
  invoice: WireInvoice,
  at: number,
): void {
  if (sub.latest_invoice !== invoice.id || TERMINAL.includes(sub.status)) return;
  const action = state.config.dunning.finalAction;
  if (action === "cancel") cancelSubscription(state, sub, at, "payment_failed");
  else if (action === "unpaid") {
    updateSubscription(state, sub, at, (s) => {
      s.status = "unpaid";
    });
  }
}

/** Pay an open invoice on request (`POST /v1/invoices/:id/pay`); a decline is a 402. */
export function payInvoice(
  state: EmulatorState,
  invoice: WireInvoice,
  at: number,
  outOfBand: boolean,
  paymentMethod: string | null = null,
): void {
  if (outOfBand) {
    invoice.status = "paid";
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = at;
    state.emit("invoice.paid", invoice, at);
    const sub = subscriptionOf(state, invoice);
    if (sub) onLatestInvoicePaid(state, sub, invoice, at);
    return;
  }
  if (!attemptInvoicePayment(state, invoice, at, false, paymentMethod)) throw cardDeclined();
}

function issueInvoice(
  state: EmulatorState,
  input: IssueInvoice & { finalize: boolean; attempt: boolean },
): { invoice: WireInvoice; paid: boolean } {
  const invoice = createInvoice(state, input);
  if (input.subscription) input.subscription.latest_invoice = invoice.id;
  if (!input.finalize) return { invoice, paid: false };
  finalizeInvoice(state, invoice, input.at);
  const paid = input.attempt ? attemptInvoicePayment(state, invoice, input.at, true) : false;
  return { invoice, paid };
}

/**
 * Pending invoice items go on the next invoice: a subscription's own (prorations) and the
 * customer's items not tied to a subscription (https://docs.stripe.com/billing/invoices/subscription#adding-upcoming-invoice-items).
 */
export function takePendingItems(
  state: EmulatorState,
  customerId: string,
  subId: string | null,
): LineSpec[] {
  return state
    .newestFirst(state.invoiceItems.values())
    .reverse()
    .filter(
      (pending) =>
        pending.invoice === null &&
        pending.customer === customerId &&
        (pending.subscription === null || pending.subscription === subId),
    )
    .map((pending) => lineOfItem(state, pending));
}

function lineOfItem(state: EmulatorState, item: InvoiceItemRecord): LineSpec {
  return {
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    price: item.price ? priceOf(state, item.price) : null,
    quantity: item.quantity,
    period: item.period,
    subscriptionItem: item.subscriptionItem,
    invoiceItem: item.id,
    proration: item.proration,
  };
}

/** `POST /v1/invoiceitems` with `invoice`: the item lands on that draft at once. */
export function appendInvoiceLines(
  state: EmulatorState,
  invoice: WireInvoice,
  items: InvoiceItemRecord[],
): void {
  const subId = invoice.parent?.subscription_details?.subscription;
  for (const item of items) {
    item.invoice = invoice.id;
    invoice.lines.data.push(
      buildLine(invoice.id, typeof subId === "string" ? subId : null, lineOfItem(state, item)),
    );
  }
  const subtotal = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = subtotal;
  invoice.total_excluding_tax = subtotal;
  invoice.amount_due = Math.max(0, subtotal);
  invoice.amount_remaining = Math.max(0, subtotal);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

/** Applies `mutate`, then emits `customer.subscription.updated` with previous attributes. */
export function updateSubscription(
  state: EmulatorState,
  sub: SubscriptionRecord,
  at: number,
  mutate: (sub: SubscriptionRecord) => void,
): void {
  const before = renderSubscription(state, sub);
  mutate(sub);
  const after = renderSubscription(state, sub);
  const prev = previousAttributes(before, after);
  if (Object.keys(prev).length > 0) {
    state.emit("customer.subscription.updated", after, at, prev);
  }
}

export function cancelSubscription(
  state: EmulatorState,
  sub: SubscriptionRecord,
  at: number,
  reason: "cancellation_requested" | "payment_failed",
): void {
  if (TERMINAL.includes(sub.status)) return;
  sub.status = "canceled";
  sub.ended_at = at;
  sub.canceled_at = sub.canceled_at ?? at;
  sub.cancellation_details = {
    comment: sub.cancellation_details?.comment ?? null,
    feedback: sub.cancellation_details?.feedback ?? null,
    feedback_option: sub.cancellation_details?.feedback_option ?? null,
    reason,
  };
  for (const pending of [...state.invoiceItems.values()]) {
    if (pending.subscription === sub.id && pending.invoice === null)
      state.invoiceItems.delete(pending.id);
  }
  state.emit("customer.subscription.deleted", renderSubscription(state, sub), at);
}

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

export interface ItemChange {
  id?: string;
  price?: string;
  quantity?: number;
  deleted?: boolean;
  metadata?: Record<string, string>;
}

/**
 * Item changes with Stripe's proration rules
 * (https://docs.stripe.com/billing/subscriptions/prorations): the unused part of the old price
 * is credited and the rest of the period on the new price charged, as pending invoice items
 * (`create_prorations`), on an immediate invoice (`always_invoice`), or not at all (`none`).
 * A change of billing interval resets the billing cycle and invoices at once
 * (https://docs.stripe.com/billing/subscriptions/billing-cycle#changing).
 */
export function changeItems(
  state: EmulatorState,
  sub: SubscriptionRecord,
  changes: ItemChange[],
  behavior: "create_prorations" | "none" | "always_invoice",
  at: number,
  prorationDate: number | undefined,
): ItemRecord[] {
  const existing = subscriptionItems(state, sub.id);
  const firstExisting = existing[0];
  const periodStart = firstExisting?.current_period_start ?? at;
  const periodEnd = firstExisting?.current_period_end ?? at;
  const oldInterval = firstExisting ? priceInterval(priceOf(state, firstExisting.price)) : null;
  const before = new Map(
    existing.map((item) => [item.id, { price: item.price, quantity: item.quantity ?? 1 }]),
  );
  const touched: {
    item: ItemRecord;
    old: { price: string; quantity: number } | null;
    deleted: boolean;
  }[] = [];

  for (const change of changes) {
    if (change.id) {
      const item = state.items.get(change.id);
      if (!item) continue;
      const old = before.get(item.id) ?? null;
      if (change.deleted) {
        state.items.delete(item.id);
        touched.push({ item, old, deleted: true });
        continue;
      }
      if (change.price) item.price = change.price;
      if (change.quantity !== undefined) item.quantity = change.quantity;
      if (isMetered(priceOf(state, item.price))) item.quantity = undefined;
      else if (item.quantity === undefined) item.quantity = 1;
      if (change.metadata) item.metadata = change.metadata;
      touched.push({ item, old, deleted: false });
    } else if (change.price) {
      const item = addItem(
        state,
        sub,
        { price: change.price, quantity: change.quantity, metadata: change.metadata ?? {} },
        at,
        periodStart,
        periodEnd,
      );
      touched.push({ item, old: null, deleted: false });
    }
  }

  const remaining = subscriptionItems(state, sub.id);
  const firstRemaining = remaining[0];
  const newInterval = firstRemaining ? priceInterval(priceOf(state, firstRemaining.price)) : null;
  const intervalChanged =
    oldInterval !== null &&
    newInterval !== null &&
    (oldInterval.interval !== newInterval.interval || oldInterval.count !== newInterval.count);
  const trialing = sub.status === "trialing";
  const pivot = Math.min(Math.max(prorationDate ?? at, periodStart), periodEnd);
  const fraction = periodEnd > periodStart ? (periodEnd - pivot) / (periodEnd - periodStart) : 0;
  const prorations: InvoiceItemRecord[] = [];
  if (!trialing && behavior !== "none") {
    for (const { item, old, deleted } of touched) {
      if (old) {
        const oldPrice = priceOf(state, old.price);
        const unchanged =
          !deleted && old.price === item.price && old.quantity === (item.quantity ?? 1);
        if (!isMetered(oldPrice) && !unchanged) {
          prorations.push(
            pendingItem(
              state,
              sub,
              item.id,
              oldPrice,
              old.quantity,
              -Math.round(unitAmount(oldPrice) * old.quantity * fraction),
              `Unused time on ${old.quantity} × ${productName(state, oldPrice)} after ${formatDate(pivot)}`,
              { start: pivot, end: periodEnd },
            ),
          );
        } else if (unchanged) continue;
      }
      if (deleted || intervalChanged) continue;
      const newPrice = priceOf(state, item.price);
      if (isMetered(newPrice)) continue;
      const qty = item.quantity ?? 1;
      prorations.push(
        pendingItem(
          state,
          sub,
          item.id,
          newPrice,
          qty,
          Math.round(unitAmount(newPrice) * qty * fraction),
          `Remaining time on ${qty} × ${productName(state, newPrice)} after ${formatDate(pivot)}`,
          { start: pivot, end: periodEnd },
        ),
      );
    }
  }
  for (const pending of prorations) state.invoiceItems.set(pending.id, pending);

  if (intervalChanged && newInterval && !trialing) {
    const end = addInterval(at, newInterval.interval, newInterval.count);
    sub.billing_cycle_anchor = at;
    for (const item of remaining) {
      item.current_period_start = at;
      item.current_period_end = end;
    }
    const period = { start: at, end };
    const lines = [
      ...remaining
        .filter((item) => !isMetered(priceOf(state, item.price)))
        .map((item) => licensedLine(state, item, period, false)),
      ...takePendingItems(state, customerIdOf(sub), sub.id),
    ];
    chargeUpdateInvoice(state, sub, lines, at);
  } else if (behavior === "always_invoice" && prorations.length > 0) {
    chargeUpdateInvoice(state, sub, takePendingItems(state, customerIdOf(sub), sub.id), at);
  }
  return remaining;
}

function pendingItem(
  state: EmulatorState,
  sub: SubscriptionRecord,
  itemId: string,
  price: WirePrice,
  quantity: number,
  amount: number,
  description: string,
  period: { start: number; end: number },
): InvoiceItemRecord {
  const id = newId(ID_PREFIX.invoiceItem);
  state.track(id);
  return {
    id,
    customer: customerIdOf(sub),
    subscription: sub.id,
    subscriptionItem: itemId,
    price: price.id,
    amount,
    currency: price.currency,
    description,
    period,
    proration: true,
    quantity,
    invoice: null,
  };
}

function chargeUpdateInvoice(
  state: EmulatorState,
  sub: SubscriptionRecord,
  lines: LineSpec[],
  at: number,
): void {
  const { paid } = issueInvoice(state, {
    customer: customerIdOf(sub),
    subscription: sub,
    billingReason: "subscription_update",
    lines,
    periodStart: at,
    periodEnd: at,
    at,
    finalize: true,
    attempt: sub.collection_method === "charge_automatically",
  });
  if (!paid && sub.collection_method === "charge_automatically" && sub.status === "active") {
    sub.status = "past_due";
  }
}

/** Period end: a new invoice for the next period (licensed in advance, metered in arrears). */
function renew(state: EmulatorState, sub: SubscriptionRecord, at: number): void {
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

// ---------------------------------------------------------------------------------------------
// Time

type DueAction =
  | { kind: "trial_will_end"; sub: SubscriptionRecord }
  | { kind: "retry"; sub: SubscriptionRecord; invoice: WireInvoice }
  | { kind: "cancel"; sub: SubscriptionRecord }
  | { kind: "renew"; sub: SubscriptionRecord }
  | { kind: "expire_incomplete"; sub: SubscriptionRecord }
  | { kind: "expire_checkout"; sessionId: string };

const ORDER: DueAction["kind"][] = [
  "trial_will_end",
  "retry",
  "expire_incomplete",
  "cancel",
  "renew",
  "expire_checkout",
];

function dueActions(
  state: EmulatorState,
  clockId: string | null,
): { at: number; action: DueAction }[] {
  const due: { at: number; action: DueAction }[] = [];
  const retries = new Map<string, WireInvoice[]>();
  for (const invoice of state.invoices.values()) {
    if (invoice.status !== "open" || invoice.next_payment_attempt === null) continue;
    const subId = invoice.parent?.subscription_details?.subscription;
    if (typeof subId !== "string") continue;
    retries.set(subId, [...(retries.get(subId) ?? []), invoice]);
  }
  for (const sub of state.subscriptions.values()) {
    if ((sub.test_clock ?? null) !== clockId || TERMINAL.includes(sub.status)) continue;
    const internal = state.subInternal.get(sub.id);
    if (sub.status === "incomplete") {
      if (internal?.incompleteExpiresAt != null) {
        due.push({ at: internal.incompleteExpiresAt, action: { kind: "expire_incomplete", sub } });
      }
      continue;
    }
    if (sub.cancel_at !== null) due.push({ at: sub.cancel_at, action: { kind: "cancel", sub } });
    const first = subscriptionItems(state, sub.id)[0];
    if (first && sub.status !== "paused") {
      due.push({ at: first.current_period_end, action: { kind: "renew", sub } });
    }
    if (
      sub.status === "trialing" &&
      sub.trial_end !== null &&
      internal?.trialWillEndSentFor !== sub.trial_end
    ) {
      due.push({
        at: Math.max(sub.trial_end - TRIAL_WILL_END_LEAD, sub.created),
        action: { kind: "trial_will_end", sub },
      });
    }
    for (const invoice of retries.get(sub.id) ?? []) {
      due.push({
        at: invoice.next_payment_attempt as number,
        action: { kind: "retry", sub, invoice },
      });
    }
  }
  if (clockId === null) {
    for (const record of state.checkoutSessions.values()) {
      if (record.session.status === "open") {
        due.push({
          at: record.session.expires_at,
          action: { kind: "expire_checkout", sessionId: record.session.id },
        });
      }
    }
  }
  return due;
}

/**
 * Runs everything that falls due up to `target` in time order: renewals, trial ends, payment
 * retries, scheduled cancellations, expiries. `clockId` null means objects not on a test clock.
 */
export function processDue(
  state: EmulatorState,
  clockId: string | null,
  target: number,
  expireCheckout: (sessionId: string, at: number) => void,
): void {
  for (let guard = 0; guard < 100_000; guard++) {
    const due = dueActions(state, clockId)
      .filter((d) => d.at <= target)
      .sort((a, b) => a.at - b.at || ORDER.indexOf(a.action.kind) - ORDER.indexOf(b.action.kind));
    const next = due[0];
    if (!next) return;
    const { at, action } = next;
    if (clockId) {
      const clock = state.testClocks.get(clockId);
      if (clock) clock.frozen_time = Math.max(clock.frozen_time, at);
    }
    runAction(state, action, at, expireCheckout);
  }
  throw new Error("processDue did not converge");
}

function runAction(
  state: EmulatorState,
  action: DueAction,
  at: number,
  expireCheckout: (sessionId: string, at: number) => void,
): void {
  switch (action.kind) {
    case "trial_will_end": {
      const internal = state.subInternal.get(action.sub.id);
      if (internal) internal.trialWillEndSentFor = action.sub.trial_end;
      state.emit("customer.subscription.trial_will_end", renderSubscription(state, action.sub), at);
      return;
    }
    case "retry":
      if (attemptInvoicePayment(state, action.invoice, at, true)) return;
      return;
    case "expire_incomplete": {
      const sub = action.sub;
      const internal = state.subInternal.get(sub.id);
      if (internal) internal.incompleteExpiresAt = null;
      const invoice =
        typeof sub.latest_invoice === "string" ? state.invoices.get(sub.latest_invoice) : undefined;
      if (invoice?.status === "open") {
        invoice.status = "void";
        invoice.status_transitions.voided_at = at;
        state.emit("invoice.voided", invoice, at);
      }
      updateSubscription(state, sub, at, (s) => {
        s.status = "incomplete_expired";
        s.ended_at = at;
      });
      return;
    }
    case "cancel":
      cancelSubscription(state, action.sub, at, "cancellation_requested");
      return;
    case "renew":
      renew(state, action.sub, at);
      return;
    case "expire_checkout":
      expireCheckout(action.sessionId, at);
      return;
  }
}

export function invoicePrefix(): string {
  return randomString(8, "0123456789ABCDEF");
}
