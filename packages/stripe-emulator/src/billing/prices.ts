import type { EmulatorState } from "../state.js";
import type { Interval } from "../time.js";
import type { WirePrice } from "../wire.js";

// Prices and amounts: what a price charges and how it reads on an invoice.

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

export function productName(state: EmulatorState, price: WirePrice): string {
  const product = typeof price.product === "string" ? state.products.get(price.product) : undefined;
  return product?.name ?? price.nickname ?? price.id;
}

export function formatMoney(amount: number, currency: string): string {
  const value = (amount / 100).toFixed(2);
  return currency.toLowerCase() === "usd" ? `$${value}` : `${value} ${currency.toUpperCase()}`;
}

export function priceOf(state: EmulatorState, id: string): WirePrice {
  const price = state.prices.get(id);
  if (!price) throw new Error(`price ${id} vanished`);
  return price;
}
