import { insertWhere, log, meterFor, resetDatabase, tenantDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import {
  authTokens,
  entitlementOverrides,
  platformAuditLog,
  subscriptions,
  tenantDatabases,
  tenants,
  users,
  userTenants,
} from "@tenantry/schema/control";
import {
  and,
  eq,
  exists,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  ne,
  notExists,
  notInArray,
} from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { emailVerificationLink } from "./email-verification";
import { removeTenantObjects } from "./logo";
import { mailer } from "./mailer";
import { warnIfPoolLow } from "./pool";
import { tenantUrl } from "./registry";

/** At most this many tenants are warned, marked and removed per run. */
export const RECLAIM_BATCH = 25;
const DAY_MS = 86_400_000;
/** The owner is told this long before the tenant is reclaimed, never less. */
export const RECLAIM_NOTICE_MS = DAY_MS;
/** Active, owner unverified, and no subscription that still pays (`t`: tenants, `u`: its owner). */
/** Active, its owner unverified, and no subscription still in play. */
function unverifiedUnpaid(db: ReturnType<typeof controlDb>) {
  return and(
    eq(tenants.status, "active"),
    isNull(users.emailVerifiedAt),
    notExists(
      db
        .select({ id: subscriptions.tenantId })
        .from(subscriptions)
        .where(
          and(
            eq(subscriptions.tenantId, tenants.id),
            isNotNull(subscriptions.status),
            notInArray(subscriptions.status, ["canceled", "incomplete_expired"]),
          ),
        ),
    ),
  );
}

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
 *    its objects in R2 (the logo) deleted, the meter's storage cleared, then one batch frees the
 *    database, deletes the registry rows (and the owner identity when it has nothing else) and
 *    writes the `tenant.reclaim` entry of `platform_audit_log`.
 *
 * Every step is idempotent and the tenant stays `reclaiming` until the batch, so a crash
 * anywhere is finished by the next run; the batch is atomic, so a database is never assigned to
 * a deleted tenant.
 */
export async function reclaimUnverifiedTenants(env: Env, now = Date.now()): Promise<ReclaimResult> {
  const cfg = config(env);
  const cutoff = now - cfg.UNVERIFIED_TENANT_TTL_DAYS * DAY_MS;
  const result: ReclaimResult = { warned: 0, marked: 0, reclaimed: 0, failed: 0 };

  const db = controlDb(env);
  const toWarn: ToWarn[] = await db
    .select({
      id: tenants.id,
      slug: tenants.slug,
      name: tenants.name,
      created_at: tenants.createdAt,
      user_id: users.id,
      email: users.email,
    })
    .from(tenants)
    .innerJoin(users, eq(users.id, tenants.ownerUserId))
    .where(
      and(
        unverifiedUnpaid(db),
        isNull(tenants.reclaimWarnedAt),
        lt(tenants.createdAt, cutoff + RECLAIM_NOTICE_MS),
      ),
    )
    .orderBy(tenants.createdAt)
    .limit(RECLAIM_BATCH);
  for (const t of toWarn) {
    try {
      await warnOwner(env, t, now);
      result.warned++;
    } catch (err) {
      result.failed++;
      log.forTenant(t.id).error("reclaim warning failed", { error: String(err) });
    }
  }

  // One conditional update: the conditions hold at the instant of the write.
  const marked = await db
    .update(tenants)
    .set({ status: "reclaiming", updatedAt: now })
    .where(
      inArray(
        tenants.id,
        db
          .select({ id: tenants.id })
          .from(tenants)
          .innerJoin(users, eq(users.id, tenants.ownerUserId))
          .where(
            and(
              unverifiedUnpaid(db),
              lt(tenants.createdAt, cutoff),
              lte(tenants.reclaimWarnedAt, now - RECLAIM_NOTICE_MS),
            ),
          )
          .orderBy(tenants.createdAt)
          .limit(RECLAIM_BATCH),
      ),
    )
    .returning({ id: tenants.id });
  result.marked = marked.length;

  const due: Reclaimable[] = await db
    .select({
      id: tenants.id,
      slug: tenants.slug,
      name: tenants.name,
      plan: tenants.plan,
      database_binding: tenants.databaseBinding,
      owner_user_id: tenants.ownerUserId,
      created_at: tenants.createdAt,
      updated_at: tenants.updatedAt,
      owner_email: users.email,
    })
    .from(tenants)
    .leftJoin(users, eq(users.id, tenants.ownerUserId))
    .where(
      and(
        eq(tenants.status, "reclaiming"),
        lte(tenants.updatedAt, now - cfg.REGISTRY_CACHE_TTL_SECONDS * 1000),
      ),
    )
    .orderBy(tenants.updatedAt)
    .limit(RECLAIM_BATCH);

  for (const tenant of due) {
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
  await controlDb(env).update(tenants).set({ reclaimWarnedAt: now }).where(eq(tenants.id, t.id));
}

/** Removes one `reclaiming` tenant; false when another run holds it. */
async function removeTenant(
  env: Env,
  tenant: Reclaimable,
  now: number,
  ttlDays: number,
): Promise<boolean> {
  const db = controlDb(env);
  // A lease: only the run that moves updated_at on from the value it read goes on, so two
  // overlapping runs never work on the same tenant.
  const [lease] = await db
    .update(tenants)
    .set({ updatedAt: now })
    .where(
      and(
        eq(tenants.id, tenant.id),
        eq(tenants.status, "reclaiming"),
        eq(tenants.updatedAt, tenant.updated_at),
      ),
    )
    .returning({ id: tenants.id });
  if (!lease) return false;
  // The pool row, not the tenant row, says which database is the tenant's to wipe.
  const held = await db
    .select({ binding: tenantDatabases.binding })
    .from(tenantDatabases)
    .where(eq(tenantDatabases.tenantId, tenant.id))
    .get();
  if (held) await resetDatabase(tenantDb(env, { id: tenant.id, databaseBinding: held.binding }).d1);
  await removeTenantObjects(env, tenant.id);
  await meterFor(env.TENANT_METER, tenant.id).destroy();

  // Every statement is guarded: a run that lost the race (the tenant is gone) changes nothing.
  const reclaiming = exists(
    db
      .select({ id: tenants.id })
      .from(tenants)
      .where(and(eq(tenants.id, tenant.id), eq(tenants.status, "reclaiming"))),
  );
  const before = {
    slug: tenant.slug,
    name: tenant.name,
    plan: tenant.plan,
    database_binding: held?.binding ?? tenant.database_binding,
    owner_user_id: tenant.owner_user_id,
    owner_email: tenant.owner_email,
    created_at: tenant.created_at,
  };
  const owner = tenant.owner_user_id;
  await db.batch([
    // First, and guarded like the rest: a run that lost the race writes no second entry.
    insertWhere(
      db,
      platformAuditLog,
      {
        id: newId("audit"),
        actorType: "system",
        actorId: "reclaim",
        action: "tenant.reclaim",
        tenantId: tenant.id,
        targetType: "tenant",
        targetId: tenant.id,
        reason: `owner email not verified within ${ttlDays} days of sign-up`,
        before: JSON.stringify(before),
        after: JSON.stringify({ deleted: true, database_released: held?.binding ?? null }),
        requestId: `reclaim_${now}`,
        ip: null,
        createdAt: now,
      },
      reclaiming,
    ),
    db
      .update(tenantDatabases)
      .set({ tenantId: null, assignedAt: null })
      .where(and(eq(tenantDatabases.tenantId, tenant.id), reclaiming)),
    ...[userTenants, authTokens, subscriptions, entitlementOverrides].map((table) =>
      db.delete(table).where(and(eq(table.tenantId, tenant.id), reclaiming)),
    ),
    // The owner identity goes too when it is unverified and has no other tenant.
    db.delete(users).where(
      and(
        eq(users.id, owner),
        isNull(users.emailVerifiedAt),
        reclaiming,
        notExists(
          db
            .select({ id: userTenants.userId })
            .from(userTenants)
            .where(eq(userTenants.userId, owner)),
        ),
        notExists(
          db
            .select({ id: tenants.id })
            .from(tenants)
            .where(and(eq(tenants.ownerUserId, owner), ne(tenants.id, tenant.id))),
        ),
      ),
    ),
    db.delete(tenants).where(and(eq(tenants.id, tenant.id), eq(tenants.status, "reclaiming"))),
  ]);
  return true;
}
