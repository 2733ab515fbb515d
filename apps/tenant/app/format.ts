/** How the app writes dates, amounts and counts: one place, so every page reads the same. */

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** Stripe amounts are in the currency's minor unit (cents). */
export function formatMoney(cents: number, currency: string): string {
  return (cents / 100).toLocaleString("en-US", {
    style: "currency",
    currency: currency.toUpperCase(),
    maximumFractionDigits: cents % 100 === 0 ? 0 : 2,
  });
}

export function formatCount(n: number | null): string {
  return n === null ? "Unlimited" : n.toLocaleString("en-US");
}
