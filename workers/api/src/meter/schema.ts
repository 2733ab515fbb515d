/**
 * Creates the meter's tables (idempotent; runs in the constructor, before any call) and returns
 * the tenant the object was bound to, if any.
 */
export function setUpMeterStorage(sql: SqlStorage): string | null {
  sql.exec(`CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  // Counter usage per hour window (a window never straddles two periods): what was used,
  // above a soft limit, billable, and how much of it the outbox already carries.
  sql.exec(`CREATE TABLE IF NOT EXISTS usage (metric TEXT NOT NULL, window_start INTEGER NOT NULL,
    period_start INTEGER NOT NULL, period_end INTEGER NOT NULL, used INTEGER NOT NULL,
    overage INTEGER NOT NULL DEFAULT 0, billable INTEGER NOT NULL DEFAULT 0,
    flushed_used INTEGER NOT NULL DEFAULT 0, flushed_billable INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (metric, window_start))`);
  sql.exec(`CREATE TABLE IF NOT EXISTS gauges (metric TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, result TEXT NOT NULL,
    created_at INTEGER NOT NULL)`);
  // Units of a gauge taken for a change not yet written to the tenant's database; kept a
  // while after they settle, so a re-derivation racing the write never counts one short.
  sql.exec(`CREATE TABLE IF NOT EXISTS reservations (key TEXT PRIMARY KEY, metric TEXT NOT NULL,
    created_at INTEGER NOT NULL, settled_at INTEGER)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    metric TEXT NOT NULL, window_start INTEGER NOT NULL, delta INTEGER NOT NULL,
    billable INTEGER NOT NULL, key TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
    sent_at INTEGER, period_start INTEGER)`);
  // Quota thresholds crossed per metric and period, and when the tenant was told (thresholds.ts).
  sql.exec(`CREATE TABLE IF NOT EXISTS thresholds (metric TEXT NOT NULL,
    period_start INTEGER NOT NULL, percent INTEGER NOT NULL, period_end INTEGER NOT NULL,
    quota INTEGER NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER,
    PRIMARY KEY (metric, period_start, percent))`);
  // Outboxes created before rows carried their period get the column (null on old rows).
  const columns = sql.exec("SELECT 1 FROM pragma_table_info('outbox') WHERE name = 'period_start'");
  if (columns.toArray().length === 0) {
    sql.exec("ALTER TABLE outbox ADD COLUMN period_start INTEGER");
  }
  return (
    sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = 'tenant_id'").toArray()[0]
      ?.value ?? null
  );
}

/** Records the tenant this object serves (a meter serves one tenant for its whole life). */
export function bindMeterTenant(sql: SqlStorage, tenantId: string): void {
  sql.exec("INSERT OR IGNORE INTO meta (name, value) VALUES ('tenant_id', ?)", tenantId);
}
