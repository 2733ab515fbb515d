import {
  type AuditVerification,
  sealPlatformAuditLog,
  sealTenantAuditLog,
  verifyPlatformAuditLog,
  verifyTenantAuditLog,
} from "@tenantry/core";
import { tenants } from "@tenantry/schema/control";
import { asc, isNotNull } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";

/**
 * Development only (`npm run audit:verify`): the operator log and every tenant's log verified,
 * each sealed first when `seal` is set (`wrangler dev` runs no cron). Operators get the same
 * verbs, one tenant at a time, from the admin API.
 */
export async function verifyAllAuditLogs(
  env: Env,
  opts: { seal?: boolean } = {},
): Promise<{ platform: AuditVerification; tenants: AuditVerification[] }> {
  const ctx = { env };
  if (opts.seal) await sealPlatformAuditLog({ ctx });
  const platform = await verifyPlatformAuditLog({ ctx });
  const all = await controlDb(env)
    .select({ id: tenants.id })
    .from(tenants)
    .where(isNotNull(tenants.databaseBinding))
    .orderBy(asc(tenants.id));
  const results: AuditVerification[] = [];
  for (const { id } of all) {
    const input = { tenantId: id };
    if (opts.seal) await sealTenantAuditLog({ ctx, input });
    results.push(await verifyTenantAuditLog({ ctx, input }));
  }
  return { platform, tenants: results };
}
