import {
  controlDb,
  type PoolStatus,
  ProblemError,
  poolStatus,
  TENANT_MIGRATIONS,
} from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { fleetRuns, fleetRunTenants, tenants } from "@tenantry/schema/control";
import { and, asc, count, desc, eq, gt, isNotNull, sql } from "drizzle-orm";
import { operatorAuditEntry, operatorAuditEntryWhere } from "../audit";
import type { OperatorContext } from "../context";
import { adminConfig } from "../env";
import { advanceWave, behind, enqueue, type FleetRun, settleWave } from "./fleet-steps";

export interface FleetRunOptions {
  reason: string;
  /** Tenants in the first wave after the canary (default 10). */
  firstWave?: number;
  /** Each next wave is this many times larger (default 2). */
  growth?: number;
  /** A wave halts the run when more than this percentage of it fails (default 10; canary: any). */
  maxFailurePercent?: number;
}

export interface FleetRunProgress {
  run: FleetRun;
  waves: { wave: number; pending: number; done: number; failed: number }[];
  failures: { tenant_id: string; wave: number; error: string | null }[];
  /** Tenants still below the run's target version. */
  behind: number;
}

const conflict = (code: string, title: string, detail: string) =>
  new ProblemError(409, code, title, detail);
const runNotFound = () => new ProblemError(404, "not_found", "Not found", "No such fleet run.");

/** The fleet at a glance: the latest schema version, tenants per version, the pool, the last run. */
export async function fleetOverview({ ctx }: { ctx: OperatorContext; input?: undefined }): Promise<{
  latest_version: number;
  versions: { version: number; tenants: number }[];
  pool: PoolStatus;
  last_run: FleetRun | null;
}> {
  const db = controlDb(ctx.env);
  const [versions, pool, lastRun] = await Promise.all([
    db
      .select({ version: tenants.schemaVersion, tenants: count() })
      .from(tenants)
      .where(isNotNull(tenants.databaseBinding))
      .groupBy(tenants.schemaVersion)
      .orderBy(tenants.schemaVersion),
    poolStatus(ctx.env, adminConfig(ctx.env).POOL_LOW_WATER),
    db.select().from(fleetRuns).orderBy(desc(fleetRuns.id)).limit(1).get(),
  ]);
  return {
    latest_version: TENANT_MIGRATIONS.length,
    versions,
    pool,
    last_run: lastRun ?? null,
  };
}

/** Provisioned tenants with their schema version, by id; `behindOnly` lists those to migrate. */
export async function listFleetTenants({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { cursor?: string; limit?: number; behindOnly?: boolean };
}) {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
  const rows = await controlDb(ctx.env)
    .select({
      id: tenants.id,
      slug: tenants.slug,
      status: tenants.status,
      schema_version: tenants.schemaVersion,
      database_binding: tenants.databaseBinding,
    })
    .from(tenants)
    .where(
      and(
        input.behindOnly ? behind(TENANT_MIGRATIONS.length) : isNotNull(tenants.databaseBinding),
        input.cursor ? gt(tenants.id, input.cursor) : undefined,
      ),
    )
    .orderBy(asc(tenants.id))
    .limit(limit + 1);
  const data = rows.slice(0, limit);
  return {
    latest_version: TENANT_MIGRATIONS.length,
    data,
    next_cursor: rows.length > limit ? (data.at(-1)?.id ?? null) : null,
  };
}

/**
 * Starts a migration run to the latest tenant schema: one open run at a time (a unique lock
 * column, so two starts cannot both succeed), its audit entry in the same batch, then the
 * canary wave is planned and enqueued; the FLEET queue's consumer does the rest.
 */
export async function startFleetRun({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: FleetRunOptions;
}): Promise<FleetRunProgress> {
  const db = controlDb(ctx.env);
  const target = TENANT_MIGRATIONS.length;
  const pending = await db.select({ n: count() }).from(tenants).where(behind(target)).get();
  if (!pending?.n) {
    throw conflict("fleet_up_to_date", "Fleet up to date", `Every tenant is at version ${target}.`);
  }
  const now = Date.now();
  const run: FleetRun = {
    id: newId("fleetRun"),
    state: "running",
    lock: "open",
    targetVersion: target,
    wave: -1,
    firstWave: input.firstWave ?? 10,
    growth: input.growth ?? 2,
    maxFailurePercent: input.maxFailurePercent ?? 10,
    cursor: "",
    haltReason: null,
    startedBy: ctx.operator.id,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.batch([
      db.insert(fleetRuns).values(run),
      operatorAuditEntry(ctx, db, {
        action: "fleet.migrate",
        target: { type: "fleet_run", id: run.id },
        reason: input.reason,
        after: {
          target_version: target,
          tenants_behind: pending.n,
          first_wave: run.firstWave,
          growth: run.growth,
          max_failure_percent: run.maxFailurePercent,
        },
      }),
    ]);
  } catch (err) {
    // D1 reports the lock's unique violation in the message (drizzle may wrap it as the cause).
    const text = `${err} ${(err as { cause?: unknown }).cause ?? ""}`;
    if (text.includes("UNIQUE constraint failed")) {
      throw conflict(
        "fleet_run_open",
        "A fleet run is open",
        "Another migration run is running or halted: resume it or wait for it to finish.",
      );
    }
    throw err;
  }
  await advanceWave(ctx.env, run, -1);
  return fleetRunProgress({ ctx, input: { runId: run.id } });
}

/**
 * Resumes a halted (or stalled) run: the current wave's failed tenants are retried, its pending
 * ones enqueued again; done tenants are never redone. One audit entry, written only if the run
 * is running after the batch.
 */
export async function resumeFleetRun({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { runId: string; reason: string };
}): Promise<FleetRunProgress> {
  const db = controlDb(ctx.env);
  const run = await db.select().from(fleetRuns).where(eq(fleetRuns.id, input.runId)).get();
  if (!run) throw runNotFound();
  if (run.state === "completed") {
    throw conflict("fleet_run_completed", "Run completed", "This run has finished.");
  }
  const now = Date.now();
  const [resumed] = await db.batch([
    db
      .update(fleetRuns)
      .set({ state: "running", haltReason: null, updatedAt: now })
      .where(
        and(
          eq(fleetRuns.id, run.id),
          eq(fleetRuns.wave, run.wave),
          sql`${fleetRuns.lock} IS NOT NULL`,
        ),
      ),
    db
      .update(fleetRunTenants)
      .set({ state: "pending", error: null, updatedAt: now })
      .where(
        and(
          eq(fleetRunTenants.runId, run.id),
          eq(fleetRunTenants.wave, run.wave),
          eq(fleetRunTenants.state, "failed"),
          sql`EXISTS (SELECT 1 FROM ${fleetRuns} WHERE ${fleetRuns.id} = ${run.id} AND ${fleetRuns.state} = 'running' AND ${fleetRuns.wave} = ${run.wave})`,
        ),
      ),
    operatorAuditEntryWhere(
      ctx,
      db,
      {
        action: "fleet.migrate",
        target: { type: "fleet_run", id: run.id },
        reason: input.reason,
        before: { state: run.state, wave: run.wave, halt_reason: run.haltReason },
        after: { state: "running", wave: run.wave },
      },
      sql`EXISTS (SELECT 1 FROM ${fleetRuns} WHERE ${fleetRuns.id} = ${run.id} AND ${fleetRuns.state} = 'running' AND ${fleetRuns.wave} = ${run.wave})`,
    ),
  ]);
  if (resumed.meta.changes !== 1) {
    throw conflict("fleet_run_moved", "Run changed", "The run moved on meanwhile; reload it.");
  }
  const current = { ...run, state: "running" as const };
  if (run.wave < 0) await advanceWave(ctx.env, current, -1);
  else {
    const waiting = await db
      .select({ tenantId: fleetRunTenants.tenantId })
      .from(fleetRunTenants)
      .where(
        and(
          eq(fleetRunTenants.runId, run.id),
          eq(fleetRunTenants.wave, run.wave),
          eq(fleetRunTenants.state, "pending"),
        ),
      );
    if (waiting.length > 0)
      await enqueue(
        ctx.env,
        run.id,
        run.wave,
        waiting.map((w) => w.tenantId),
      );
    else await settleWave(ctx.env, run.id, run.wave);
  }
  return fleetRunProgress({ ctx, input: { runId: run.id } });
}

/** A run's progress per wave, its failures with their errors, and how many tenants remain. */
export async function fleetRunProgress({
  ctx,
  input,
}: {
  ctx: Pick<OperatorContext, "env">;
  input: { runId: string };
}): Promise<FleetRunProgress> {
  const db = controlDb(ctx.env);
  const run = await db.select().from(fleetRuns).where(eq(fleetRuns.id, input.runId)).get();
  if (!run) throw runNotFound();
  const [counts, failures, remaining] = await Promise.all([
    db
      .select({ wave: fleetRunTenants.wave, state: fleetRunTenants.state, n: count() })
      .from(fleetRunTenants)
      .where(eq(fleetRunTenants.runId, run.id))
      .groupBy(fleetRunTenants.wave, fleetRunTenants.state),
    db
      .select({
        tenant_id: fleetRunTenants.tenantId,
        wave: fleetRunTenants.wave,
        error: fleetRunTenants.error,
      })
      .from(fleetRunTenants)
      .where(and(eq(fleetRunTenants.runId, run.id), eq(fleetRunTenants.state, "failed")))
      .orderBy(fleetRunTenants.wave, fleetRunTenants.tenantId)
      .limit(100),
    db.select({ n: count() }).from(tenants).where(behind(run.targetVersion)).get(),
  ]);
  const waves = new Map<number, FleetRunProgress["waves"][number]>();
  for (const c of counts) {
    const w = waves.get(c.wave) ?? { wave: c.wave, pending: 0, done: 0, failed: 0 };
    w[c.state] = c.n;
    waves.set(c.wave, w);
  }
  return {
    run,
    waves: [...waves.values()].sort((a, b) => a.wave - b.wave),
    failures,
    behind: remaining?.n ?? 0,
  };
}
