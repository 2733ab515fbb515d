import { applyTenantMigrations, auditEntry, log, resetDatabase, tenantDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { authTokens, tenantDatabases, tenants, users, userTenants } from "@tenantry/schema/control";
import { members } from "@tenantry/schema/tenant";
import { and, eq, exists, inArray, lt, notExists } from "drizzle-orm";
import { controlDb } from "../db/control-db";
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
  return (
    (await controlDb(env).select().from(tenants).where(eq(tenants.id, tenantId)).get()) ?? null
  );
}

/** The update that records a completed step, with whatever else the step sets. */
function markStep(
  env: Env,
  tenantId: string,
  step: ProvisioningStep,
  set: Partial<TenantRow> = {},
) {
  return controlDb(env)
    .update(tenants)
    .set({ ...set, provisioningStep: step, provisioningError: null, updatedAt: Date.now() })
    .where(eq(tenants.id, tenantId));
}

async function registryStep(env: Env, input: RegistryInput): Promise<void> {
  if (await loadTenant(env, input.tenantId)) return;
  const db = controlDb(env);
  const tenant = db.insert(tenants).values({
    id: input.tenantId,
    slug: input.slug,
    name: input.name,
    status: "provisioning",
    schemaVersion: 0,
    provisioningStep: "registry",
    ownerUserId: input.owner.id,
    createdAt: input.now,
    updatedAt: input.now,
  });
  try {
    if (input.owner.isNew) {
      await db.batch([
        db.insert(users).values({
          id: input.owner.id,
          email: input.owner.email,
          passwordHash: input.owner.passwordHash,
          createdAt: input.now,
          updatedAt: input.now,
        }),
        tenant,
      ]);
    } else {
      await tenant;
    }
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
  await markStep(env, tenant.id, "database", { databaseBinding: binding, schemaVersion: version });
}

async function ownerStep(env: Env, tenant: TenantRow, ctx: ProvisioningContext): Promise<void> {
  const db = tenantDb(env, tenant);
  const owner = await controlDb(env)
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(eq(users.id, tenant.ownerUserId))
    .get();
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
  await controlDb(env).batch([
    controlDb(env)
      .insert(userTenants)
      .values({ userId: owner.id, tenantId: tenant.id, createdAt: Date.now() })
      .onConflictDoNothing(),
    markStep(env, tenant.id, "owner"),
  ]);
}

async function planStep(env: Env, tenant: TenantRow): Promise<void> {
  await markStep(env, tenant.id, "plan", { plan: "free" });
}

async function activateStep(env: Env, tenant: TenantRow): Promise<void> {
  await markStep(env, tenant.id, "activate", { status: "active" });
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
  const db = controlDb(env);
  // Every statement is guarded: a tenant that became active meanwhile (a racing sweep or retry
  // finished it) is never taken apart.
  const provisioning = and(eq(tenants.id, tenantId), eq(tenants.status, "provisioning"));
  const stillProvisioning = exists(db.select({ id: tenants.id }).from(tenants).where(provisioning));
  await db.batch([
    db
      .update(tenantDatabases)
      .set({ tenantId: null, assignedAt: null })
      .where(and(eq(tenantDatabases.tenantId, tenantId), stillProvisioning)),
    db.delete(userTenants).where(and(eq(userTenants.tenantId, tenantId), stillProvisioning)),
    db.delete(authTokens).where(and(eq(authTokens.tenantId, tenantId), stillProvisioning)),
    // The owner was created by this sign-up when both rows carry the same creation time.
    db.delete(users).where(
      and(
        inArray(
          users.id,
          db
            .select({ id: tenants.ownerUserId })
            .from(tenants)
            .where(and(provisioning, eq(tenants.createdAt, users.createdAt))),
        ),
        notExists(
          db
            .select({ id: userTenants.userId })
            .from(userTenants)
            .where(eq(userTenants.userId, users.id)),
        ),
      ),
    ),
    db.delete(tenants).where(provisioning),
  ]);
}

/** Scheduled: resumes sign-ups interrupted mid-way (crash, timeout), or rolls them back. */
export async function sweepStaleProvisioning(
  env: Env,
  now = Date.now(),
): Promise<{ resumed: number; rolledBack: number; failed: number }> {
  const stale = await controlDb(env)
    .select({ id: tenants.id })
    .from(tenants)
    .where(
      and(eq(tenants.status, "provisioning"), lt(tenants.updatedAt, now - STALE_PROVISIONING_MS)),
    )
    .limit(50);
  let resumed = 0;
  let rolledBack = 0;
  let failed = 0;
  for (const { id } of stale) {
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
