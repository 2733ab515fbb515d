import { log, meterFor, tenantDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { resetDatabase } from "../db/tenant-migrations";
import { config, type Env } from "../env";
import { emailVerificationLink } from "./email-verification";
import { mailer } from "./mailer";
import { warnIfPoolLow } from "./pool";
import { tenantUrl } from "./registry";

/** At most this many tenants are warned, marked and removed per run. */
export const RECLAIM_BATCH = 25;
const DAY_MS = 86_400_000;
/** The owner is told this long before the tenant is reclaimed, never less. */
export const RECLAIM_NOTICE_MS = DAY_MS;
/** Active, owner unverified, and no subscription that still pays (`t`: tenants, `u`: its owner). */
const UNVERIFIED_UNPAID = `t.status = 'active' AND u.email_verified_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = t.id
                  AND s.status IS NOT NULL AND s.status NOT IN ('canceled', 'incomplete_expired'))`;

interface Reclaimable {
  id: string;
  slug: string;
  name: string;
  plan: string | null;
  database_binding: string | null;
  owner_user_id: string;
  owner_email: string | null;
  created_at: number;
  updated_at: number;
}

interface ToWarn {
  id: string;
  slug: string;
  name: string;
  created_at: number;
  user_id: string;
  email: string;
}

export interface ReclaimResult {
  /** Owners told that their tenant will be reclaimed. */
  warned: number;
  /** Tenants taken out of service by this run. */
  marked: number;
  /** Tenants removed and their databases returned to the pool. */
  reclaimed: number;
  failed: number;
}

/**
 * Scheduled: gives the databases of sign-ups whose owner never verified their email back to the
 * pool, so scripted sign-ups cannot hold the pool for good.
 *
 * 1. **Warn**: a day before the window ends, the owner of an active tenant that has no live
 *    subscription and who has not verified their email gets a mail with a fresh verification
 *    link (sent, then recorded: a crash may send it twice, never not at all).
 * 2. **Mark**: such tenants older than `UNVERIFIED_TENANT_TTL_DAYS`, warned at least a day ago,
 *    become `reclaiming` in one conditional update (the conditions hold at the instant of the
 *    write) and stop being served. The notice also spares tenants that were already past the
 *    window when this job was deployed from being removed without a word.
 * 3. **Remove**, once the registry caches of other isolates have expired (a cached `active` row
 *    could otherwise still reach the database): the database assigned to the tenant is wiped,
 *    the meter's storage cleared, then one batch frees the database, deletes the registry rows
 *    (and the owner identity when it has nothing else) and writes the `tenant.reclaim` entry of
 *    `platform_audit_log`.
 *
 * Every step is idempotent and the tenant stays `reclaiming` until the batch, so a crash
 * anywhere is finished by the next run; the batch is atomic, so a database is never assigned to
 * a deleted tenant.
 */
export async function reclaimUnverifiedTenants(env: Env, now = Date.now()): Promise<ReclaimResult> {
  const cfg = config(env);
  const cutoff = now - cfg.UNVERIFIED_TENANT_TTL_DAYS * DAY_MS;
  const result: ReclaimResult = { warned: 0, marked: 0, reclaimed: 0, failed: 0 };

  const toWarn = await env.CONTROL_DB.prepare(
    `SELECT t.id, t.slug, t.name, t.created_at, u.id AS user_id, u.email
     FROM tenants t JOIN users u ON u.id = t.owner_user_id
     WHERE ${UNVERIFIED_UNPAID} AND t.reclaim_warned_at IS NULL AND t.created_at < ?
     ORDER BY t.created_at LIMIT ?`,
  )
    .bind(cutoff + RECLAIM_NOTICE_MS, RECLAIM_BATCH)
    .all<ToWarn>();
  for (const t of toWarn.results) {
    try {
      await warnOwner(env, t, now);
      result.warned++;
    } catch (err) {
      result.failed++;
      log.forTenant(t.id).error("reclaim warning failed", { error: String(err) });
    }
  }

  const marked = await env.CONTROL_DB.prepare(
    `UPDATE tenants SET status = 'reclaiming', updated_at = ?1
     WHERE id IN (
       SELECT t.id FROM tenants t JOIN users u ON u.id = t.owner_user_id
       WHERE ${UNVERIFIED_UNPAID} AND t.created_at < ?2 AND t.reclaim_warned_at <= ?3
       ORDER BY t.created_at LIMIT ?4)
     RETURNING id`,
  )
    .bind(now, cutoff, now - RECLAIM_NOTICE_MS, RECLAIM_BATCH)
    .all<{ id: string }>();
  result.marked = marked.results.length;

  const due = await env.CONTROL_DB.prepare(
    `SELECT t.id, t.slug, t.name, t.plan, t.database_binding, t.owner_user_id, t.created_at,
            t.updated_at, u.email AS owner_email
     FROM tenants t LEFT JOIN users u ON u.id = t.owner_user_id
     WHERE t.status = 'reclaiming' AND t.updated_at <= ? ORDER BY t.updated_at LIMIT ?`,
  )
    .bind(now - cfg.REGISTRY_CACHE_TTL_SECONDS * 1000, RECLAIM_BATCH)
    .all<Reclaimable>();

  for (const tenant of due.results) {
    try {
      if (await removeTenant(env, tenant, now, cfg.UNVERIFIED_TENANT_TTL_DAYS)) result.reclaimed++;
    } catch (err) {
      result.failed++;
      log.forTenant(tenant.id).error("reclaim failed; the next run resumes it", {
        error: String(err),
      });
    }
  }
  if (result.warned + result.marked + result.reclaimed + result.failed > 0) {
    log.info("reclaimed unverified tenants", { ...result });
  }
  await warnIfPoolLow(env);
  return result;
}

/** Mails the owner a fresh verification link and the date of removal, then records it. */
async function warnOwner(env: Env, t: ToWarn, now: number): Promise<void> {
  const cfg = config(env);
  const link = await emailVerificationLink(env, t, { id: t.user_id });
  const removal = new Date(
    Math.max(t.created_at + cfg.UNVERIFIED_TENANT_TTL_DAYS * DAY_MS, now + RECLAIM_NOTICE_MS),
  );
  await mailer(env).send({
    to: t.email,
    tenantId: t.id,
    subject: `Verify your email to keep ${t.name} on Tenantry`,
    text: `Your email address is still not verified, and workspaces whose owner never verifies it are removed after ${cfg.UNVERIFIED_TENANT_TTL_DAYS} days to keep room for others.\n\n${tenantUrl(cfg, t.slug)} and everything in it will be deleted after ${removal.toISOString().replace("T", " ").slice(0, 16)} UTC unless you verify your address:\n${link}`,
  });
  await env.CONTROL_DB.prepare("UPDATE tenants SET reclaim_warned_at = ? WHERE id = ?")
    .bind(now, t.id)
    .run();
}

/** Removes one `reclaiming` tenant; false when another run holds it. */
async function removeTenant(
  env: Env,
  tenant: Reclaimable,
  now: number,
  ttlDays: number,
): Promise<boolean> {
  const db = env.CONTROL_DB;
  // A lease: only the run that moves updated_at on from the value it read goes on, so two
  // overlapping runs never work on the same tenant.
  const lease = await db
    .prepare(
      "UPDATE tenants SET updated_at = ? WHERE id = ? AND status = 'reclaiming' AND updated_at = ? RETURNING id",
    )
    .bind(now, tenant.id, tenant.updated_at)
    .first();
  if (!lease) return false;
  // The pool row, not the tenant row, says which database is the tenant's to wipe.
  const held = await db
    .prepare("SELECT binding FROM tenant_databases WHERE tenant_id = ?")
    .bind(tenant.id)
    .first<{ binding: string }>();
  if (held) await resetDatabase(tenantDb(env, { id: tenant.id, databaseBinding: held.binding }).d1);
  await meterFor(env.TENANT_METER, tenant.id).destroy();

  const reclaiming = "EXISTS (SELECT 1 FROM tenants WHERE id = ?1 AND status = 'reclaiming')";
  const before = {
    slug: tenant.slug,
    name: tenant.name,
    plan: tenant.plan,
    database_binding: held?.binding ?? tenant.database_binding,
    owner_user_id: tenant.owner_user_id,
    owner_email: tenant.owner_email,
    created_at: tenant.created_at,
  };
  await db.batch([
    // First, and guarded like the rest: a run that lost the race writes no second entry.
    db
      .prepare(
        `INSERT INTO platform_audit_log (id, actor_type, actor_id, action, tenant_id, target_type,
           target_id, reason, before, after, request_id, ip, created_at)
         SELECT ?2, 'system', 'reclaim', 'tenant.reclaim', ?1, 'tenant', ?1, ?3, ?4, ?5, ?6, NULL, ?7
         WHERE ${reclaiming}`,
      )
      .bind(
        tenant.id,
        newId("audit"),
        `owner email not verified within ${ttlDays} days of sign-up`,
        JSON.stringify(before),
        JSON.stringify({ deleted: true, database_released: held?.binding ?? null }),
        `reclaim_${now}`,
        now,
      ),
    db
      .prepare(
        `UPDATE tenant_databases SET tenant_id = NULL, assigned_at = NULL WHERE tenant_id = ?1 AND ${reclaiming}`,
      )
      .bind(tenant.id),
    ...["user_tenants", "auth_tokens", "subscriptions", "entitlement_overrides"].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE tenant_id = ?1 AND ${reclaiming}`).bind(tenant.id),
    ),
    // The owner identity goes too when it is unverified and has no other tenant.
    db
      .prepare(
        `DELETE FROM users WHERE id = ?2 AND email_verified_at IS NULL AND ${reclaiming}
         AND NOT EXISTS (SELECT 1 FROM user_tenants WHERE user_id = ?2)
         AND NOT EXISTS (SELECT 1 FROM tenants WHERE owner_user_id = ?2 AND id <> ?1)`,
      )
      .bind(tenant.id, tenant.owner_user_id),
    db.prepare("DELETE FROM tenants WHERE id = ?1 AND status = 'reclaiming'").bind(tenant.id),
  ]);
  return true;
}
