import {
  controlDb,
  inChunks,
  migrateTenantDatabase,
  QUEUE_BATCH_LIMIT,
  TENANT_MIGRATIONS,
} from "@tenantry/core";
import { fleetRuns, fleetRunTenants, tenants } from "@tenantry/schema/control";
import { and, asc, count, eq, gt, isNotNull, lt } from "drizzle-orm";
import type { AdminEnv } from "../env";
import type { FleetMessage } from "../fleet-message";

export type FleetRun = typeof fleetRuns.$inferSelect;

/** Provisioned tenants below `version`. */
export const behind = (version: number) =>
  and(isNotNull(tenants.databaseBinding), lt(tenants.schemaVersion, version));

/** A wave never exceeds this many tenants (a `sendBatch` per 100). */
const MAX_WAVE = 1000;

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
export async function settleWave(env: AdminEnv, runId: string, wave: number): Promise<void> {
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
export async function advanceWave(env: AdminEnv, run: FleetRun, from: number): Promise<void> {
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

export async function enqueue(env: AdminEnv, runId: string, wave: number, tenantIds: string[]) {
  const messages = tenantIds.map((tenant_id) => ({
    body: { run_id: runId, tenant_id, wave } satisfies FleetMessage,
    contentType: "json" as const,
  }));
  for (const chunk of inChunks(messages, QUEUE_BATCH_LIMIT)) await env.FLEET_QUEUE.sendBatch(chunk);
}
