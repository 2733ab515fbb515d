import { renderSubscription } from "../render.js";
import { type EmulatorState, previousAttributes, type SubscriptionRecord } from "../state.js";

// Subscription updates (each with its event) and cancellation, shared by payments, renewals,
// the due-time loop and the API; kept apart so those modules import it without a cycle.

/** Statuses a subscription never leaves. */
export const TERMINAL: readonly string[] = ["canceled", "incomplete_expired"];

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
