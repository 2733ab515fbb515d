import {
  log,
  migrateTenantDatabase,
  TENANT_MIGRATIONS,
  type TenantMigration,
} from "@tenantry/core";
import { tenants } from "@tenantry/schema/control";
import { and, gt, isNotNull, lt } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";
import { ServiceUnavailableError } from "../errors";
import { forgetTenant, type TenantRow } from "./registry";

export interface TenantMigrationResult {
  tenant_id: string;
  slug: string;
  from: number;
  to: number;
  applied: string[];
  error?: string;
}

/**
 * Applies pending tenant migrations to every provisioned tenant database, one tenant at a time,
 * recording each tenant's schema version in the registry as it goes. Idempotent (each database
 * records what it has applied) and resumable (a re-run only visits tenants still behind). One
 * tenant's failure is reported and does not stop the others.
 */
export async function migrateTenantDatabases(
  env: Env,
  opts: { migrations?: TenantMigration[]; onResult?: (r: TenantMigrationResult) => void } = {},
): Promise<TenantMigrationResult[]> {
  const migrations = opts.migrations ?? TENANT_MIGRATIONS;
  const target = migrations.length;
  const results: TenantMigrationResult[] = [];
  let after = "";
  for (;;) {
    const batch = await controlDb(env)
      .select({
        id: tenants.id,
        slug: tenants.slug,
        database_binding: tenants.databaseBinding,
        schema_version: tenants.schemaVersion,
      })
      .from(tenants)
      .where(
        and(
          isNotNull(tenants.databaseBinding),
          lt(tenants.schemaVersion, target),
          gt(tenants.id, after),
        ),
      )
      .orderBy(tenants.id)
      .limit(100);
    if (batch.length === 0) break;
    for (const t of batch) {
      after = t.id;
      const result: TenantMigrationResult = {
        tenant_id: t.id,
        slug: t.slug,
        from: t.schema_version,
        to: t.schema_version,
        applied: [],
      };
      try {
        const { version, applied } = await migrateTenantDatabase(
          env,
          { id: t.id, databaseBinding: t.database_binding },
          migrations,
        );
        Object.assign(result, { to: version, applied });
      } catch (err) {
        result.error = err instanceof Error ? err.message : String(err);
      }
      results.push(result);
      opts.onResult?.(result);
    }
  }
  return results;
}

/** Whether the code expects more of this tenant's database than it has (a deploy shipped migrations). */
export const schemaBehind = (tenant: TenantRow) => tenant.schemaVersion < TENANT_MIGRATIONS.length;

/**
 * Catches one tenant's database up before its request is served. After a deploy that ships
 * tenant migrations the new code reads the new tables at once, while the fleet run (the cron and
 * the admin fleet page) reaches tenants one by one: the tenant's own first request does not
 * wait for it. Parallel first requests may race on the same migration: the loser's batch fails
 * whole (D1 batches are atomic), and a second look finds it applied.
 */
export async function catchUpTenantSchema(env: Env, tenant: TenantRow): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateTenantDatabase(env, tenant);
      forgetTenant(tenant.slug); // the cached row still has the old version
      return;
    } catch (err) {
      if (attempt < 2) continue;
      log.forTenant(tenant.id).error("catching up the tenant's schema failed", {
        error: err instanceof Error ? err.message : String(err),
      });
      throw new ServiceUnavailableError(
        "tenant_upgrading",
        "This tenant's database is being upgraded. Try again in a few seconds.",
        5,
      );
    }
  }
}
