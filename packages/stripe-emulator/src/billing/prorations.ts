import { ID_PREFIX, newId } from "../random.js";
import { subscriptionItems } from "../render.js";
import type { EmulatorState, InvoiceItemRecord, ItemRecord, SubscriptionRecord } from "../state.js";
import { addInterval, formatDate } from "../time.js";
import type { WirePrice } from "../wire.js";
import { customerIdOf, type LineSpec, licensedLine, takePendingItems } from "./lines.js";
import { issueInvoice } from "./payments.js";
import { isMetered, priceInterval, priceOf, productName, unitAmount } from "./prices.js";
import { addItem } from "./subscriptions.js";

// Prorations: item changes in the middle of a period.

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
