import { auditEntry, log, tenantDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { members } from "@tenantry/schema/tenant";
import { eq } from "drizzle-orm";
import { applyTenantMigrations, resetDatabase } from "../db/tenant-migrations";
import type { Env } from "../env";
import { ConflictError, ProblemError, ServiceUnavailableError } from "../errors";
import { claimDatabase } from "./pool";
import type { TenantRow } from "./registry";

/**
 * Provisioning runs in named steps, each idempotent, each recorded in the registry row when done
 * (`provisioning_step`), so a retry or the scheduled sweep resumes after the last one that
 * completed. A step that keeps failing rolls the whole sign-up back: no tenant stays visible.
 */
export const PROVISIONING_STEPS = ["registry", "database", "owner", "plan", "activate"] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];

export const STEP_ATTEMPTS = 3;
/** Sign-ups still provisioning after this long are resumed (or rolled back) by the sweep. */
export const STALE_PROVISIONING_MS = 2 * 60_000;

export interface ProvisioningHooks {
  /** Called before every attempt of every step; tests inject failures here. */
  beforeStep?: (step: ProvisioningStep, attempt: number) => void | Promise<void>;
}

/** What the registry step writes; later steps read everything else from the registry row. */
export interface RegistryInput {
  tenantId: string;
  slug: string;
  name: string;
  owner: { id: string; email: string; passwordHash: string; isNew: boolean };
  now: number;
}

export interface ProvisioningContext {
  requestId: string;
  ip: string | null;
}

async function loadTenant(env: Env, tenantId: string): Promise<TenantRow | null> {
  const row = await env.CONTROL_DB.prepare("SELECT * FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first();
  return row ? toTenantRow(row) : null;
}

function toTenantRow(r: Record<string, unknown>): TenantRow {
  return {
    id: r.id as string,
    slug: r.slug as string,
    name: r.name as string,
    status: r.status as TenantRow["status"],
    plan: r.plan as string | null,
    databaseBinding: r.database_binding as string | null,
    schemaVersion: r.schema_version as number,
    provisioningStep: r.provisioning_step as string | null,
    provisioningError: r.provisioning_error as string | null,
    ownerUserId: r.owner_user_id as string,
    region: r.region as string | null,
    stripeCustomerId: r.stripe_customer_id as string | null,
    reclaimWarnedAt: r.reclaim_warned_at as number | null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** The update that records a completed step; bind (step, now, ...extra, tenantId). */
function markStep(env: Env, set = "") {
  return env.CONTROL_DB.prepare(
    `UPDATE tenants SET provisioning_step = ?, provisioning_error = NULL, updated_at = ?${set} WHERE id = ?`,
  );
}

async function registryStep(env: Env, input: RegistryInput): Promise<void> {
  if (await loadTenant(env, input.tenantId)) return;
  const statements: D1PreparedStatement[] = [];
  if (input.owner.isNew) {
    statements.push(
      env.CONTROL_DB.prepare(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      ).bind(input.owner.id, input.owner.email, input.owner.passwordHash, input.now, input.now),
    );
  }
  statements.push(
    env.CONTROL_DB.prepare(
      `INSERT INTO tenants (id, slug, name, status, schema_version, provisioning_step, owner_user_id, created_at, updated_at)
       VALUES (?, ?, ?, 'provisioning', 0, 'registry', ?, ?, ?)`,
    ).bind(input.tenantId, input.slug, input.name, input.owner.id, input.now, input.now),
  );
  try {
    await env.CONTROL_DB.batch(statements);
  } catch (err) {
    const message = `${err} ${err instanceof Error ? err.cause : ""}`;
    if (message.includes("tenants.slug")) {
      throw new ConflictError("slug_taken", `The slug "${input.slug}" is taken.`);
    }
    if (message.includes("users.email")) {
      throw new ConflictError(
        "email_taken",
        "An account with this email exists; sign up with its password.",
      );
    }
    throw err;
  }
}

async function databaseStep(env: Env, tenant: TenantRow): Promise<void> {
  const binding = await claimDatabase(env, tenant.id);
  const db = tenantDb(env, { id: tenant.id, databaseBinding: binding });
  // Nothing of this tenant is in the database before this step completes, so a wipe is always
  // safe, and it also clears a half-finished earlier attempt or a released tenant's leftovers.
  await resetDatabase(db.d1);
  const { version } = await applyTenantMigrations(db.d1);
  await markStep(env, ", database_binding = ?, schema_version = ?")
    .bind("database", Date.now(), binding, version, tenant.id)
    .run();
}

async function ownerStep(env: Env, tenant: TenantRow, ctx: ProvisioningContext): Promise<void> {
  const db = tenantDb(env, tenant);
  const owner = await env.CONTROL_DB.prepare("SELECT id, email FROM users WHERE id = ?")
    .bind(tenant.ownerUserId)
    .first<{ id: string; email: string }>();
  if (!owner) throw new Error(`owner ${tenant.ownerUserId} of ${tenant.id} is missing`);
  const existing = await db.orm
    .select({ id: members.id })
    .from(members)
    .where(eq(members.userId, owner.id))
    .get();
  if (!existing) {
    // Built-in roles live in code (rbac/permissions.ts); the owner membership is the data.
    const now = Date.now();
    const member = {
      id: newId("member"),
      tenantId: tenant.id,
      userId: owner.id,
      email: owner.email,
      role: "owner",
    };
    const auditCtx = {
      db,
      requestId: ctx.requestId,
      ip: ctx.ip,
      actor: { type: "user", id: owner.id },
    };
    await db.orm.batch([
      db.orm.insert(members).values({ ...member, createdAt: now, updatedAt: now }),
      auditEntry(auditCtx, {
        action: "tenant.create",
        target: { type: "tenant", id: tenant.id },
        after: { slug: tenant.slug, name: tenant.name },
      }),
      auditEntry(auditCtx, {
        action: "member.join",
        target: { type: "member", id: member.id },
        after: member,
      }),
    ]);
  }
  await env.CONTROL_DB.batch([
    env.CONTROL_DB.prepare(
      "INSERT OR IGNORE INTO user_tenants (user_id, tenant_id, created_at) VALUES (?, ?, ?)",
    ).bind(owner.id, tenant.id, Date.now()),
    markStep(env).bind("owner", Date.now(), tenant.id),
  ]);
}

async function planStep(env: Env, tenant: TenantRow): Promise<void> {
  await markStep(env, ", plan = 'free'").bind("plan", Date.now(), tenant.id).run();
}

async function activateStep(env: Env, tenant: TenantRow): Promise<void> {
  await markStep(env, ", status = 'active'").bind("activate", Date.now(), tenant.id).run();
}

/**
 * Runs the steps after the last completed one. Each step is retried up to STEP_ATTEMPTS times;
 * if it still fails the sign-up is rolled back and a 503 problem is thrown.
 */
export async function runProvisioning(
  env: Env,
  tenantId: string,
  ctx: ProvisioningContext,
  opts: { registry?: RegistryInput; hooks?: ProvisioningHooks } = {},
): Promise<TenantRow> {
  const existing = await loadTenant(env, tenantId);
  const done = existing?.provisioningStep as ProvisioningStep | undefined;
  const start = done ? PROVISIONING_STEPS.indexOf(done) + 1 : 0;
  for (const step of PROVISIONING_STEPS.slice(start)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.hooks?.beforeStep?.(step, attempt);
        if (step === "registry") {
          if (!opts.registry) throw new Error(`tenant ${tenantId} has no registry row to resume`);
          await registryStep(env, opts.registry);
        } else {
          const tenant = await loadTenant(env, tenantId);
          if (!tenant) throw new Error(`tenant ${tenantId} vanished during provisioning`);
          if (step === "database") await databaseStep(env, tenant);
          else if (step === "owner") await ownerStep(env, tenant, ctx);
          else if (step === "plan") await planStep(env, tenant);
          else await activateStep(env, tenant);
        }
        break;
      } catch (err) {
        // Typed problems (slug taken, pool exhausted) will not change on retry.
        const permanent = err instanceof ProblemError;
        const final = attempt >= STEP_ATTEMPTS || permanent;
        log.forTenant(tenantId)[final ? "error" : "warn"]("provisioning step failed", {
          step,
          attempt,
          error: String(err),
        });
        if (!final) continue;
        await rollbackProvisioning(env, tenantId);
        if (permanent) throw err;
        throw new ServiceUnavailableError(
          "provisioning_failed",
          `Setting up the tenant failed at step "${step}"; nothing was kept. Please retry.`,
          5,
        );
      }
    }
  }
  const tenant = await loadTenant(env, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} vanished after provisioning`);
  return tenant;
}

/**
 * Undoes a sign-up that could not complete: the registry row, the index rows, the pool claim
 * (the database is wiped when next claimed) and the owner identity if it was created by it.
 */
export async function rollbackProvisioning(env: Env, tenantId: string): Promise<void> {
  const db = env.CONTROL_DB;
  // Every statement is guarded: a tenant that became active meanwhile (a racing sweep or retry
  // finished it) is never taken apart.
  const stillProvisioning =
    "EXISTS (SELECT 1 FROM tenants WHERE id = ?1 AND status = 'provisioning')";
  await db.batch([
    db
      .prepare(
        `UPDATE tenant_databases SET tenant_id = NULL, assigned_at = NULL WHERE tenant_id = ?1 AND ${stillProvisioning}`,
      )
      .bind(tenantId),
    db
      .prepare(`DELETE FROM user_tenants WHERE tenant_id = ?1 AND ${stillProvisioning}`)
      .bind(tenantId),
    db
      .prepare(`DELETE FROM auth_tokens WHERE tenant_id = ?1 AND ${stillProvisioning}`)
      .bind(tenantId),
    // The owner was created by this sign-up when both rows carry the same creation time.
    db
      .prepare(
        `DELETE FROM users WHERE id IN (SELECT owner_user_id FROM tenants
           WHERE id = ?1 AND status = 'provisioning' AND created_at = users.created_at)
       AND NOT EXISTS (SELECT 1 FROM user_tenants WHERE user_id = users.id)`,
      )
      .bind(tenantId),
    db.prepare("DELETE FROM tenants WHERE id = ? AND status = 'provisioning'").bind(tenantId),
  ]);
}

/** Scheduled: resumes sign-ups interrupted mid-way (crash, timeout), or rolls them back. */
export async function sweepStaleProvisioning(
  env: Env,
  now = Date.now(),
): Promise<{ resumed: number; rolledBack: number; failed: number }> {
  const stale = await env.CONTROL_DB.prepare(
    "SELECT id FROM tenants WHERE status = 'provisioning' AND updated_at < ? LIMIT 50",
  )
    .bind(now - STALE_PROVISIONING_MS)
    .all<{ id: string }>();
  let resumed = 0;
  let rolledBack = 0;
  let failed = 0;
  for (const { id } of stale.results) {
    try {
      await runProvisioning(env, id, { requestId: `sweep_${now}`, ip: null });
      resumed++;
    } catch (err) {
      // A typed problem means the sign-up was rolled back; anything else (the rollback itself
      // failed) leaves the row for the next sweep.
      if (err instanceof ProblemError) rolledBack++;
      else {
        failed++;
        log.forTenant(id).error("provisioning sweep failed", { error: String(err) });
      }
    }
  }
  return { resumed, rolledBack, failed };
}
