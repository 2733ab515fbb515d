export type Interval = "day" | "week" | "month" | "year";

export const DAY = 86_400;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `ts` plus `count` intervals; month arithmetic clamps to the month's last day. */
export function addInterval(ts: number, interval: Interval, count: number): number {
  if (interval === "day") return ts + count * DAY;
  if (interval === "week") return ts + count * 7 * DAY;
  const months = interval === "year" ? count * 12 : count;
  const d = new Date(ts * 1000);
  const total = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/**
 * The first period boundary after `after`, counted from the billing cycle anchor. Counting
 * from the anchor (not from the previous boundary) is what keeps a Jan 31 anchor billing on
 * Feb 28 and then Mar 31 (https://docs.stripe.com/billing/subscriptions/billing-cycle).
 */
export function nextBoundary(anchor: number, interval: Interval, count: number, after: number) {
  let n = 1;
  while (addInterval(anchor, interval, count * n) <= after) n++;
  return addInterval(anchor, interval, count * n);
}

export function formatDate(ts: number): string {
  return new Date(ts * 1000).toISOString().slice(0, 10);
}
