import { cardDeclined } from "../errors.js";
import { declines } from "../resources/payment-methods.js";
import type { EmulatorState, PaymentOutcome, SubscriptionRecord } from "../state.js";
import { DAY } from "../time.js";
import type { WireInvoice } from "../wire.js";
import { createInvoice, finalizeInvoice, type IssueInvoice } from "./invoices.js";
import { customerIdOf } from "./lines.js";
import { cancelSubscription, TERMINAL, updateSubscription } from "./subscription-status.js";

// Payments: whether a charge succeeds, payment attempts, dunning, and issuing an invoice
// (create, finalize, charge) in one step.

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

export function issueInvoice(
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
