import { renderSubscription, subscriptionItems } from "../render.js";
import type { EmulatorState, SubscriptionRecord } from "../state.js";
import { DAY } from "../time.js";
import type { WireInvoice } from "../wire.js";
import { attemptInvoicePayment } from "./payments.js";
import { cancelSubscription, TERMINAL, updateSubscription } from "./subscription-status.js";
import { renew } from "./subscriptions.js";

// Due-time processing: everything that falls due as the clock (or a test clock) moves.

/** https://docs.stripe.com/billing/subscriptions/trials#compliance: three days before trial end. */
const TRIAL_WILL_END_LEAD = 3 * DAY;

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
      attemptInvoicePayment(state, action.invoice, at, true);
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
