import type { ConsumeInput, ConsumeResult } from "@tenantry/core";
import {
  billableUsage,
  CATALOG,
  checkLimit,
  isMeteredMetric,
  type LimitKey,
  type Period,
  usagePeriod,
} from "@tenantry/plans";
import { type Gauges, isGauge } from "./gauges";
import type { MeterEntitlements } from "./sources";
import type { Thresholds } from "./thresholds";

const HOUR = 3_600_000;
/** API call counts are written to storage at most this long after they happen (see `buffer`). */
const CALLS_PERSIST_MS = 100;

interface UsageRow {
  metric: LimitKey;
  windowStart: number;
  periodStart: number;
  periodEnd: number;
  used: number;
  overage: number;
  billable: number;
}

/**
 * Checks and counts: counters per period (hour windows in `usage`, totals kept in memory),
 * gauges through `Gauges`, and idempotency keys. Every `count` runs inside a storage transaction.
 */
export class Counters {
  /** Per-period totals of counters (`metric:period_start`), read once from storage. */
  private readonly periodTotals = new Map<string, number>();
  private lastPeriod: (Period & { anchor: number | null; endIso: string }) | null = null;
  private readonly buffered = new Map<string, UsageRow>();
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether usage was counted since the last flush was scheduled (read by the outbox). */
  dirty = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly gauges: Gauges,
    private readonly thresholds: Thresholds,
  ) {}

  /** Several check-and-counts in one transaction, each on its own. */
  countMany(ents: MeterEntitlements, inputs: ConsumeInput[], now: number): ConsumeResult[] {
    try {
      return this.storage.transactionSync(() =>
        inputs.map((input) => this.count(ents, input, now)),
      );
    } catch (err) {
      // Rolled back: totals cached during the transaction may be ahead of storage.
      this.periodTotals.clear();
      throw err;
    }
  }

  /** One check-and-count; runs inside a storage transaction. */
  count(
    ents: MeterEntitlements,
    input: ConsumeInput,
    now: number,
    /** Records without refusing: usage that already happened (reported API calls). */
    force = false,
  ): ConsumeResult {
    const sql = this.storage.sql;
    if (input.key) {
      const seen = sql
        .exec<{ result: string }>("SELECT result FROM keys WHERE key = ?", input.key)
        .toArray()[0];
      if (seen) return { ...(JSON.parse(seen.result) as ConsumeResult), duplicate: true };
    }
    const { metric, amount } = input;
    const at = input.at ?? now;
    // Requests are counted, never refused, for a read-only tenant: it may still read.
    const entitlements =
      metric === "api_calls" && ents.value.access === "read_only"
        ? { ...ents.value, access: "full" as const }
        : ents.value;
    const gauge = isGauge(metric);
    const period = gauge ? null : this.periodOf(at, ents.anchor);
    const used = gauge ? this.gauges.value(metric) : this.periodTotal(metric, period?.start ?? 0);
    const checked = checkLimit(entitlements, metric, used, amount);
    const check: typeof checked =
      force && !checked.allowed
        ? { ...checked, allowed: true, overage: checked.hard ? 0 : amount }
        : checked;
    const base = {
      metric,
      plan: entitlements.effectivePlan,
      limit: check.value,
      hard: check.hard,
      resets_at: period ? period.endIso : null,
    };
    let result: ConsumeResult;
    if (!check.allowed) {
      result = {
        ...base,
        allowed: false,
        used,
        remaining: check.remaining,
        overage: 0,
        reason: check.reason,
      };
    } else {
      const after = Math.max(0, used + amount);
      if (gauge) {
        const reservation = input.reserve && input.key && amount > 0 ? input.key : null;
        this.gauges.write(metric, after, reservation, now);
      } else if (period) {
        const metered =
          isMeteredMetric(metric) && CATALOG.plans[entitlements.effectivePlan].metered[metric];
        const billable = metered ? billableUsage(check.value, used, after) : 0;
        const row: UsageRow = {
          metric,
          // An hour never straddles two periods (anchored periods start mid-hour), so the
          // ledger's windows add up to each period exactly.
          windowStart: Math.max(at - (at % HOUR), period.start),
          periodStart: period.start,
          periodEnd: period.end,
          used: amount,
          overage: check.overage,
          billable,
        };
        if (metric === "api_calls") this.buffer(row);
        else this.writeUsage(row);
        this.periodTotals.set(`${metric}:${period.start}`, used + amount);
        this.thresholds.record(metric, period, check.value, used, used + amount, now);
        this.dirty = true;
      }
      result = {
        ...base,
        allowed: true,
        used: after,
        remaining: check.value === null ? null : Math.max(0, check.value - after),
        overage: check.overage,
      };
    }
    // Only what was counted is remembered: a refused call may succeed later (a raised limit).
    if (input.key && result.allowed) {
      sql.exec(
        "INSERT INTO keys (key, result, created_at) VALUES (?, ?, ?)",
        input.key,
        JSON.stringify(result),
        now,
      );
    }
    return result;
  }

  /** The period that contains `at`; the current one is kept, as nearly every call falls in it. */
  periodOf(at: number, anchor: number | null) {
    const last = this.lastPeriod;
    if (last && last.anchor === anchor && at >= last.start && at < last.end) return last;
    const period = usagePeriod(at, anchor);
    this.lastPeriod = { ...period, anchor, endIso: new Date(period.end).toISOString() };
    return this.lastPeriod;
  }

  /** A counter's total for a period, read from storage once and then kept in memory. */
  periodTotal(metric: LimitKey, periodStart: number): number {
    const key = `${metric}:${periodStart}`;
    let total = this.periodTotals.get(key);
    if (total === undefined) {
      total =
        this.storage.sql
          .exec<{ used: number | null }>(
            "SELECT SUM(used) AS used FROM usage WHERE metric = ? AND period_start = ?",
            metric,
            periodStart,
          )
          .one().used ?? 0;
      this.periodTotals.set(key, total);
    }
    return total;
  }

  private writeUsage(row: UsageRow) {
    this.storage.sql.exec(
      `INSERT INTO usage (metric, window_start, period_start, period_end, used, overage, billable)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (metric, window_start) DO UPDATE SET used = used + ?5,
         overage = overage + ?6, billable = billable + ?7`,
      row.metric,
      row.windowStart,
      row.periodStart,
      row.periodEnd,
      row.used,
      row.overage,
      row.billable,
    );
  }

  /**
   * API calls, counted on every request, reach storage in groups at most CALLS_PERSIST_MS apart
   * (one write instead of one per request). The quota check reads the in-memory total, so it is
   * exact while the meter runs; a crash of the meter forgets at most that interval of API call
   * counts. Usage events and gauges are written before the call returns.
   */
  private buffer(row: UsageRow) {
    const key = `${row.metric}:${row.windowStart}`;
    const held = this.buffered.get(key);
    if (held) {
      held.used += row.used;
      held.overage += row.overage;
      held.billable += row.billable;
    } else {
      this.buffered.set(key, { ...row });
    }
    if (!this.persistTimer) {
      this.persistTimer = setTimeout(() => this.persistBuffered(), CALLS_PERSIST_MS);
    }
  }

  /** Writes the buffered API call counts (also before every read of stored usage). */
  persistBuffered() {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (this.buffered.size === 0) return;
    const rows = [...this.buffered.values()];
    this.buffered.clear();
    this.storage.transactionSync(() => {
      for (const row of rows) this.writeUsage(row);
    });
  }

  /** Drops the buffered counts unwritten (the tenant is being destroyed). */
  discardBuffered() {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    this.buffered.clear();
  }
}
