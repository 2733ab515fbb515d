import type { LimitKey } from "@tenantry/plans";

/** The shares of a quota that the tenant is told about, in percent. */
const PERCENTS = [80, 100] as const;

export interface ThresholdReached {
  metric: LimitKey;
  periodStart: number;
  periodEnd: number;
  percent: number;
  quota: number;
}

/** Where the meter tells the tenant that usage reached a share of a quota (ADR 019). */
export interface UsageNoticeSink {
  thresholdReached(tenantId: string, reached: ThresholdReached): Promise<void>;
}

/**
 * Quota thresholds (80 %, 100 %) that counted usage crossed, once per metric, period and
 * threshold (the primary key). Recorded inside the check-and-count transaction, so two racing
 * calls record a crossing once; told to the tenant later (`deliver`, from the alarm), through a
 * sink whose dedupe key is the same triple, so a delivery retried after a crash adds nothing.
 */
export class Thresholds {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Records the thresholds that `before → after` crossed; runs inside the count's transaction. */
  record(
    metric: LimitKey,
    period: { start: number; end: number },
    quota: number | null,
    before: number,
    after: number,
    now: number,
  ): void {
    if (quota === null || quota <= 0) return;
    for (const percent of PERCENTS) {
      // Integer arithmetic: before < quota·p/100 ≤ after.
      if (before * 100 < quota * percent && after * 100 >= quota * percent) {
        this.storage.sql.exec(
          `INSERT OR IGNORE INTO thresholds (metric, period_start, percent, period_end, quota,
             created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          metric,
          period.start,
          percent,
          period.end,
          quota,
          now,
        );
      }
    }
  }

  /** Tells the tenant of every recorded crossing not told yet; a failure is retried later. */
  async deliver(tenantId: string, sink: UsageNoticeSink): Promise<number> {
    const due = this.storage.sql
      .exec<{
        metric: LimitKey;
        period_start: number;
        period_end: number;
        percent: number;
        quota: number;
      }>(
        `SELECT metric, period_start, period_end, percent, quota FROM thresholds
         WHERE delivered_at IS NULL ORDER BY created_at`,
      )
      .toArray();
    for (const row of due) {
      await sink.thresholdReached(tenantId, {
        metric: row.metric,
        periodStart: row.period_start,
        periodEnd: row.period_end,
        percent: row.percent,
        quota: row.quota,
      });
      this.storage.sql.exec(
        `UPDATE thresholds SET delivered_at = ? WHERE metric = ? AND period_start = ? AND percent = ?`,
        Date.now(),
        row.metric,
        row.period_start,
        row.percent,
      );
    }
    return due.length;
  }
}
