import { ID_PREFIX, newId } from "../random.js";
import type { EmulatorState, InvoiceItemRecord, ItemRecord, SubscriptionRecord } from "../state.js";
import type { WireInvoiceLineItem, WirePrice } from "../wire.js";
import { formatMoney, priceInterval, priceOf, productName, unitAmount } from "./prices.js";
import { aggregateUsage } from "./usage.js";

// Invoice lines: what a subscription item, a metered usage or a pending invoice item bills.

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

export function licensedLine(
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
export function meteredLine(
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

export function customerIdOf(sub: { customer: unknown }): string {
  return typeof sub.customer === "string" ? sub.customer : "";
}

export function buildLine(
  invoiceId: string,
  subId: string | null,
  spec: LineSpec,
): WireInvoiceLineItem {
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

export function lineOfItem(state: EmulatorState, item: InvoiceItemRecord): LineSpec {
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
