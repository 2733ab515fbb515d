import type { TenantDb } from "@tenantry/core";
import { ssoLogins } from "@tenantry/schema/tenant";
import { sql } from "drizzle-orm";

/** Rows a sign-in start removes at most: a backlog drains far faster than starts add rows. */
const SSO_LOGIN_SWEEP_BATCH = 100;

/**
 * Sign-in rows past their TTL (expired, or used and as old) are dead: no callback accepts them.
 * Every start batches this with its own insert, removing a bounded number of them, oldest first
 * (rowid order, so no index is needed): the table holds little more than one TTL's worth of
 * starts.
 */
export function sweepLogins(db: TenantDb["orm"], now: number) {
  return db
    .delete(ssoLogins)
    .where(
      sql`${ssoLogins.stateHash} IN (SELECT ${ssoLogins.stateHash} FROM ${ssoLogins} WHERE ${ssoLogins.expiresAt} <= ${now} LIMIT ${SSO_LOGIN_SWEEP_BATCH})`,
    );
}
