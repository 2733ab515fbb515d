import { tenants } from "@tenantry/schema/control";
import { TENANT_MIGRATIONS, type TenantMigration } from "@tenantry/schema/tenant-migrations";
import { eq } from "drizzle-orm";
import { controlDb } from "./control-db";
import type { CoreEnv } from "./env";
import { type TenantLocator, tenantDb } from "./tenant-db";

export { TENANT_MIGRATIONS, type TenantMigration };

const TABLE = "_tenant_migrations";
// Raw SQL throughout this module on purpose: it runs generated migration DDL and its own
// bookkeeping table, neither of which is part of the drizzle schema.

/**
 * Applies pending migrations to one tenant database. Each migration and its bookkeeping row are
 * one batch (atomic in D1), so a crash leaves either all or none of it; re-running is a no-op.
 * Returns the schema version: the number of migrations applied.
 */
export async function applyTenantMigrations(
  d1: D1Database,
  migrations: TenantMigration[] = TENANT_MIGRATIONS,
): Promise<{ version: number; applied: string[] }> {
  await d1.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
  );
  const done = await d1.prepare(`SELECT name FROM ${TABLE}`).all<{ name: string }>();
  const appliedNames = new Set(done.results.map((r) => r.name));
  const applied: string[] = [];
  for (const m of migrations) {
    if (appliedNames.has(m.name)) continue;
    await d1.batch([
      ...m.queries.map((q) => d1.prepare(q)),
      d1.prepare(`INSERT INTO ${TABLE} (name, applied_at) VALUES (?, ?)`).bind(m.name, Date.now()),
    ]);
    applied.push(m.name);
  }
  return { version: migrations.length, applied };
}

/**
 * One tenant's step of a fleet migration: applies its pending migrations, then records the
 * version in the registry. Both halves are idempotent, so a retried step converges.
 */
export async function migrateTenantDatabase(
  env: CoreEnv,
  tenant: TenantLocator,
  migrations: TenantMigration[] = TENANT_MIGRATIONS,
): Promise<{ version: number; applied: string[] }> {
  const result = await applyTenantMigrations(tenantDb(env, tenant).d1, migrations);
  await controlDb(env)
    .update(tenants)
    .set({ schemaVersion: result.version, updatedAt: Date.now() })
    .where(eq(tenants.id, tenant.id));
  return result;
}

/** Drops every table of a pool database, so a released database is reused clean. */
export async function resetDatabase(d1: D1Database): Promise<void> {
  const tables = await d1
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .all<{ name: string }>();
  if (tables.results.length === 0) return;
  await d1.batch(tables.results.map((t) => d1.prepare(`DROP TABLE IF EXISTS "${t.name}"`)));
}
