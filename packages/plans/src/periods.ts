/**
 * Usage periods. Counters reset monthly: aligned to the subscription's billing anchor when there
 * is one (so a quota renews with the invoice), else on calendar months in UTC.
 */
export interface Period {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive: when the counters reset. */
  end: number;
}

/**
 * `anchor` moved by `months` calendar months, keeping its day of month and time of day; a day
 * the target month lacks becomes its last day (a 31st anchor renews on 30 April, 28/29 February),
 * as Stripe does for billing cycle anchors.
 */
export function addMonths(anchor: number, months: number): number {
  const d = new Date(anchor);
  const target = new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes()),
  );
  const lastDay = new Date(
    Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0),
  ).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  target.setUTCSeconds(d.getUTCSeconds(), d.getUTCMilliseconds());
  return target.getTime();
}

/** The monthly period that contains `at`, anchored at `anchor` (any past or future boundary). */
export function usagePeriod(at: number, anchor: number | null = null): Period {
  if (anchor === null) {
    const d = new Date(at);
    return {
      start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
      end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
    };
  }
  const a = new Date(anchor);
  const t = new Date(at);
  let k = (t.getUTCFullYear() - a.getUTCFullYear()) * 12 + (t.getUTCMonth() - a.getUTCMonth());
  while (addMonths(anchor, k) > at) k--;
  while (addMonths(anchor, k + 1) <= at) k++;
  return { start: addMonths(anchor, k), end: addMonths(anchor, k + 1) };
}
