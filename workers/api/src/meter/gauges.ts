import type { GaugeDrift } from "@tenantry/core";
import { log } from "@tenantry/core";
import { LIMIT_DEFINITIONS, type LimitKey } from "@tenantry/plans";
import type { GaugeSource } from "./sources";

/** Gauges are re-derived from the tenant's database at least this often while they are used. */
const GAUGE_DERIVE_MS = 15 * 60_000;
/** A reservation neither settled nor cancelled this long is taken as abandoned (a crash). */
const RESERVATION_TTL_MS = 5 * 60_000;
const GAUGES = (Object.keys(LIMIT_DEFINITIONS) as LimitKey[]).filter(
  (m) => LIMIT_DEFINITIONS[m].kind === "gauge",
);

export function isGauge(metric: LimitKey): boolean {
  return LIMIT_DEFINITIONS[metric].kind === "gauge";
}

/**
 * Current totals (seats, the product's gauges) kept in the meter, with units reserved for changes
 * on their way to the tenant's database, and re-derived from that database now and then.
 */
export class Gauges {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly source: GaugeSource,
  ) {}

  value(metric: LimitKey): number {
    return (
      this.storage.sql
        .exec<{ value: number }>("SELECT value FROM gauges WHERE metric = ?", metric)
        .one().value ?? 0
    );
  }

  /** Sets a gauge after an allowed change; a reserved unit waits for `settle` or `cancel`. */
  write(metric: LimitKey, value: number, reservation: string | null, now: number): void {
    const sql = this.storage.sql;
    sql.exec("UPDATE gauges SET value = ? WHERE metric = ?", value, metric);
    if (reservation) {
      sql.exec(
        "INSERT OR IGNORE INTO reservations (key, metric, created_at) VALUES (?, ?, ?)",
        reservation,
        metric,
        now,
      );
    }
  }

  settle(key: string): void {
    this.storage.sql.exec(
      "UPDATE reservations SET settled_at = ? WHERE key = ? AND settled_at IS NULL",
      Date.now(),
      key,
    );
  }

  cancel(key: string): void {
    this.storage.transactionSync(() => {
      const sql = this.storage.sql;
      const held = sql
        .exec<{ metric: string }>(
          "DELETE FROM reservations WHERE key = ? AND settled_at IS NULL RETURNING metric",
          key,
        )
        .toArray()[0];
      if (held) {
        sql.exec("UPDATE gauges SET value = MAX(value - 1, 0) WHERE metric = ?", held.metric);
      }
    });
  }

  /** Every gauge re-derived; the drifts corrected. */
  async reconcile(tenantId: string): Promise<GaugeDrift[]> {
    const drift: GaugeDrift[] = [];
    for (const metric of GAUGES) {
      const corrected = await this.derive(tenantId, metric);
      if (corrected) drift.push(corrected);
    }
    return drift;
  }

  async deriveIfDue(tenantId: string, metric: LimitKey): Promise<void> {
    const row = this.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE name = ?", `derived:${metric}`)
      .toArray()[0];
    if (row && Date.now() - Number(row.value) < GAUGE_DERIVE_MS) return;
    await this.derive(tenantId, metric);
  }

  /** What the tenant's database holds, plus units reserved for changes still on their way. */
  private async derive(tenantId: string, metric: LimitKey): Promise<GaugeDrift | null> {
    const started = Date.now();
    const stored = await this.source.count(tenantId, metric);
    if (stored === null) return null;
    // Synchronous from here: no other call runs until the gauge is written.
    const sql = this.storage.sql;
    const now = Date.now();
    return this.storage.transactionSync(() => {
      sql.exec(
        "DELETE FROM reservations WHERE (settled_at IS NULL AND created_at < ?) OR settled_at < ?",
        now - RESERVATION_TTL_MS,
        started,
      );
      // Pending ones, and those settled while the count was read (it may not include them).
      const { n } = sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservations WHERE metric = ?", metric)
        .one();
      const value = stored + n;
      const before = sql
        .exec<{ value: number }>("SELECT value FROM gauges WHERE metric = ?", metric)
        .toArray()[0]?.value;
      sql.exec(
        "INSERT INTO gauges (metric, value) VALUES (?1, ?2) ON CONFLICT (metric) DO UPDATE SET value = ?2",
        metric,
        value,
      );
      sql.exec(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2",
        `derived:${metric}`,
        String(now),
      );
      if (before === undefined || before === value) return null;
      log.forTenant(tenantId).warn("gauge drift corrected", { metric, from: before, to: value });
      return { metric, from: before, to: value };
    });
  }
}
