import {
  controlDb,
  inChunks,
  migrateTenantDatabase,
  type PoolStatus,
  ProblemError,
  poolStatus,
  QUEUE_BATCH_LIMIT,
  TENANT_MIGRATIONS,
} from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { fleetRuns, fleetRunTenants, tenants } from "@tenantry/schema/control";
import { and, asc, count, desc, eq, gt, isNotNull, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { operatorAuditEntry, operatorAuditEntryWhere } from "../audit";
import type { OperatorContext } from "../context";
import { type AdminEnv, adminConfig } from "../env";

/** A FLEET queue message: migrate tenant X in run R, wave W (ADR 014). */
export const FleetMessageSchema = z.object({
  run_id: z.string().min(1),
  tenant_id: z.string().min(1),
  wave: z.number().int().min(0),
});
export type FleetMessage = z.infer<typeof FleetMessageSchema>;

/** A wave never exceeds this many tenants (a `sendBatch` per 100). */
const MAX_WAVE = 1000;

export interface FleetRunOptions {
  reason: string;
  /** Tenants in the first wave after the canary (default 10). */
  firstWave?: number;
  /** Each next wave is this many times larger (default 2). */
  growth?: number;
  /** A wave halts the run when more than this percentage of it fails (default 10; canary: any). */
  maxFailurePercent?: number;
}

type FleetRun = typeof fleetRuns.$inferSelect;

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

/** Provisioned tenants below `version`. */
const behind = (version: number) =>
  and(isNotNull(tenants.databaseBinding), lt(tenants.schemaVersion, version));

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

/**
 * One step of a run (the FLEET queue consumer calls it per message): migrates the tenant unless
 * it already left `pending` (a redelivery), records the outcome with a guarded transition, and
 * settles the wave. Safe to repeat: every half is idempotent.
 */
export async function runFleetStep({
  ctx,
  input,
}: {
  ctx: { env: AdminEnv };
  input: FleetMessage;
}): Promise<"done" | "failed" | "skipped"> {
  const db = controlDb(ctx.env);
  const run = await db.select().from(fleetRuns).where(eq(fleetRuns.id, input.run_id)).get();
  // A halted run's pending tenants wait for the resume, which enqueues them again.
  if (run?.state !== "running") return "skipped";
  const mine = and(
    eq(fleetRunTenants.runId, run.id),
    eq(fleetRunTenants.tenantId, input.tenant_id),
    eq(fleetRunTenants.state, "pending"),
  );
  const row = await db.select().from(fleetRunTenants).where(mine).get();
  let outcome: "done" | "failed" | "skipped" = "skipped";
  if (row) {
    const tenant = await db
      .select({ id: tenants.id, databaseBinding: tenants.databaseBinding })
      .from(tenants)
      .where(eq(tenants.id, row.tenantId))
      .get();
    const now = Date.now();
    try {
      if (!tenant) throw new Error("the tenant no longer exists");
      const migrations = TENANT_MIGRATIONS.slice(0, run.targetVersion);
      const { version } = await migrateTenantDatabase(ctx.env, tenant, migrations);
      await db
        .update(fleetRunTenants)
        .set({ state: "done", toVersion: version, error: null, updatedAt: now })
        .where(mine);
      outcome = "done";
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await db.update(fleetRunTenants).set({ state: "failed", error, updatedAt: now }).where(mine);
      outcome = "failed";
    }
  }
  await settleWave(ctx.env, run.id, input.wave);
  return outcome;
}

/**
 * When no tenant of the run's current wave is pending: halts the run if the wave failed past
 * the threshold (the canary: any failure), else plans the next wave.
 */
async function settleWave(env: AdminEnv, runId: string, wave: number): Promise<void> {
  const db = controlDb(env);
  const run = await db.select().from(fleetRuns).where(eq(fleetRuns.id, runId)).get();
  if (run?.state !== "running" || run.wave !== wave) return;
  const counts = await db
    .select({ state: fleetRunTenants.state, n: count() })
    .from(fleetRunTenants)
    .where(and(eq(fleetRunTenants.runId, runId), eq(fleetRunTenants.wave, wave)))
    .groupBy(fleetRunTenants.state);
  const of = (s: string) => counts.find((c) => c.state === s)?.n ?? 0;
  if (of("pending") > 0) return;
  const failed = of("failed");
  const size = failed + of("done");
  const tooMany = wave === 0 ? failed > 0 : failed * 100 > size * run.maxFailurePercent;
  if (tooMany) {
    const reason =
      wave === 0
        ? "The canary failed."
        : `${failed} of ${size} tenants of wave ${wave} failed (more than ${run.maxFailurePercent}%).`;
    await db
      .update(fleetRuns)
      .set({ state: "halted", haltReason: reason, updatedAt: Date.now() })
      .where(
        and(eq(fleetRuns.id, runId), eq(fleetRuns.wave, wave), eq(fleetRuns.state, "running")),
      );
    return;
  }
  await advanceWave(env, run, wave);
}

function waveSize(run: FleetRun, wave: number): number {
  if (wave === 0) return 1;
  return Math.min(run.firstWave * run.growth ** (wave - 1), MAX_WAVE);
}

/**
 * Plans wave `from + 1` (the next tenants behind, in id order after the cursor) and enqueues it,
 * or completes the run when none remain. The plan and the run's move are one batch guarded by
 * the run still being at wave `from`, so of two racing settlers only one plans and enqueues.
 */
async function advanceWave(env: AdminEnv, run: FleetRun, from: number): Promise<void> {
  const db = controlDb(env);
  const next = from + 1;
  const planned = await db
    .select({ id: tenants.id, version: tenants.schemaVersion })
    .from(tenants)
    .where(and(behind(run.targetVersion), gt(tenants.id, run.cursor)))
    .orderBy(asc(tenants.id))
    .limit(waveSize(run, next));
  const atWave = and(
    eq(fleetRuns.id, run.id),
    eq(fleetRuns.wave, from),
    eq(fleetRuns.state, "running"),
  );
  const now = Date.now();
  const last = planned.at(-1);
  if (!last) {
    await db
      .update(fleetRuns)
      .set({ state: "completed", lock: null, updatedAt: now })
      .where(atWave);
    return;
  }
  // Raw SQL on purpose: the wave travels as one JSON parameter (json_each), so a wave of any
  // size is one conditional insert, guarded like the update beside it.
  const [, moved] = await env.CONTROL_DB.batch([
    env.CONTROL_DB.prepare(
      `INSERT OR IGNORE INTO fleet_run_tenants (run_id, tenant_id, wave, state, from_version, updated_at)
       SELECT ?1, json_extract(value, '$.id'), ?2, 'pending', json_extract(value, '$.version'), ?3
       FROM json_each(?4)
       WHERE EXISTS (SELECT 1 FROM fleet_runs WHERE id = ?1 AND wave = ?5 AND state = 'running')`,
    ).bind(run.id, next, now, JSON.stringify(planned), from),
    env.CONTROL_DB.prepare(
      "UPDATE fleet_runs SET wave = ?2, cursor = ?3, updated_at = ?4 WHERE id = ?1 AND wave = ?5 AND state = 'running'",
    ).bind(run.id, next, last.id, now, from),
  ]);
  if (moved?.meta.changes !== 1) return;
  await enqueue(
    env,
    run.id,
    next,
    planned.map((t) => t.id),
  );
}

async function enqueue(env: AdminEnv, runId: string, wave: number, tenantIds: string[]) {
  const messages = tenantIds.map((tenant_id) => ({
    body: { run_id: runId, tenant_id, wave } satisfies FleetMessage,
    contentType: "json" as const,
  }));
  for (const chunk of inChunks(messages, QUEUE_BATCH_LIMIT)) await env.FLEET_QUEUE.sendBatch(chunk);
}
