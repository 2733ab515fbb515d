import type { MeterTotal, UnflushedUsage, UsageMessage } from "@tenantry/core";
import { inChunks, QUEUE_BATCH_LIMIT } from "@tenantry/core";
import type { LimitKey } from "@tenantry/plans";
import type { Counters } from "./counters";

const HOUR = 3_600_000;
/** Idempotency keys are kept at least this long (the issue asks for 48 h). */
const KEY_RETENTION_MS = 49 * HOUR;
/** A sent outbox row counts as possibly not yet in the ledger for this long. */
const IN_FLIGHT_MS = 10 * 60_000;
/** Sent outbox rows are kept this long, for reconciliation. */
const OUTBOX_RETENTION_MS = 40 * 24 * HOUR;

/**
 * Moves counted usage to the USAGE queue exactly once: an alarm turns pending deltas into outbox
 * rows whose key `tenant:metric:seq` is fixed before the first send, then sends unsent rows.
 */
export class Outbox {
  private alarmScheduled: boolean | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly counters: Counters,
    private readonly queue: Queue<UsageMessage>,
    private readonly flushSeconds: number,
  ) {}

  /** Usage was counted and no alarm is known to be set: `schedule` has work (no await). */
  get pending(): boolean {
    return this.counters.dirty && this.alarmScheduled !== true;
  }

  /** Sets the flush alarm if usage was counted since it was last set. */
  async schedule(): Promise<void> {
    if (!this.counters.dirty) return;
    this.counters.dirty = false;
    if (this.alarmScheduled === null) {
      this.alarmScheduled = (await this.storage.getAlarm()) !== null;
    }
    if (this.alarmScheduled) return;
    await this.storage.setAlarm(Date.now() + this.flushSeconds * 1000);
    this.alarmScheduled = true;
  }

  /** The alarm fired: the next counted usage sets it again. */
  alarmFired(): void {
    this.alarmScheduled = false;
  }

  /**
   * What the ledger may not have yet, for `GET /v1/usage`: deltas still pending (per hour), and
   * outbox rows sent in the last few minutes (the caller drops those the ledger already has).
   */
  unflushed(metric: LimitKey, from: number, to: number): UnflushedUsage[] {
    this.counters.persistBuffered();
    return this.storage.sql
      .exec<{ window_start: number; delta: number; key: string | null }>(
        `SELECT window_start, used - flushed_used AS delta, NULL AS key FROM usage
           WHERE metric = ?1 AND window_start >= ?2 AND window_start < ?3 AND used != flushed_used
         UNION ALL
         SELECT window_start, delta, key FROM outbox
           WHERE metric = ?1 AND window_start >= ?2 AND window_start < ?3
             AND (sent_at IS NULL OR sent_at > ?4)`,
        metric,
        from,
        to,
        Date.now() - IN_FLIGHT_MS,
      )
      .toArray();
  }

  /** The meter's own totals per metric and period, for `npm run usage:reconcile`. */
  totals(): MeterTotal[] {
    this.counters.persistBuffered();
    return this.storage.sql
      .exec<{ metric: string; period_start: number; period_end: number; used: number }>(
        `SELECT metric, period_start, period_end, SUM(used) AS used FROM usage
         GROUP BY metric, period_start ORDER BY metric, period_start`,
      )
      .toArray();
  }

  /** Moves pending deltas into the outbox (one transaction) and sends unsent rows to the queue. */
  async flush(tenantId: string): Promise<void> {
    this.counters.persistBuffered();
    const now = Date.now();
    this.storage.transactionSync(() => {
      const sql = this.storage.sql;
      const rows = sql
        .exec<{
          metric: string;
          window_start: number;
          period_start: number;
          delta: number;
          billable: number;
        }>(
          `SELECT metric, window_start, period_start, used - flushed_used AS delta,
             billable - flushed_billable AS billable
           FROM usage WHERE used != flushed_used OR billable != flushed_billable
           ORDER BY metric, window_start`,
        )
        .toArray();
      for (const row of rows) {
        // The window's own period travels with it: the ledger and reconciliation must count the
        // row where the meter did, also where a calendar month and an anchored period overlap.
        const { seq } = sql
          .exec<{ seq: number }>(
            `INSERT INTO outbox (metric, window_start, period_start, delta, billable, key, created_at)
             VALUES (?, ?, ?, ?, ?, 'pending:' || hex(randomblob(8)), ?) RETURNING seq`,
            row.metric,
            row.window_start,
            row.period_start,
            row.delta,
            row.billable,
            now,
          )
          .one();
        // The key is fixed here, before the first send, and never changes on a retry.
        sql.exec(
          "UPDATE outbox SET key = ? WHERE seq = ?",
          `${tenantId}:${row.metric}:${seq}`,
          seq,
        );
        sql.exec(
          `UPDATE usage SET flushed_used = flushed_used + ?, flushed_billable = flushed_billable + ?
           WHERE metric = ? AND window_start = ?`,
          row.delta,
          row.billable,
          row.metric,
          row.window_start,
        );
      }
      sql.exec("DELETE FROM keys WHERE created_at < ?", now - KEY_RETENTION_MS);
      sql.exec(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
        now - OUTBOX_RETENTION_MS,
      );
    });
    const unsent = this.storage.sql
      .exec<{
        seq: number;
        metric: LimitKey;
        window_start: number;
        period_start: number | null;
        delta: number;
        billable: number;
        key: string;
      }>(
        `SELECT seq, metric, window_start, period_start, delta, billable, key FROM outbox
         WHERE sent_at IS NULL ORDER BY seq`,
      )
      .toArray();
    for (const chunk of inChunks(unsent, QUEUE_BATCH_LIMIT)) {
      // If this throws, the alarm is retried by the runtime and the rows are sent again with
      // the same keys; the consumer ignores what it already has.
      await this.queue.sendBatch(
        chunk.map((row) => ({
          body: {
            key: row.key,
            tenant_id: tenantId,
            metric: row.metric,
            window_start: row.window_start,
            period_start: row.period_start,
            seq: row.seq,
            delta: row.delta,
            billable: row.billable,
          } satisfies UsageMessage,
          contentType: "json" as const,
        })),
      );
      const sentAt = Date.now();
      for (const row of chunk) {
        this.storage.sql.exec("UPDATE outbox SET sent_at = ? WHERE seq = ?", sentAt, row.seq);
      }
    }
  }
}
