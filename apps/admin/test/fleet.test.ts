/**
 * Fleet migration runs: a canary, then growing waves, halting on failure, resumable, one run at a
 * time. The FLEET queue's consumer lives in the admin worker, which is not this harness's main
 * module, so the tests deliver each wave's messages by calling the step verb (`runFleetStep`),
 * as the consumer does.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { TENANT_MIGRATIONS } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { createTenant, type TestTenant, tenantD1 } from "../../../workers/api/test/helpers";
import type { FleetMessage } from "../server/fleet-message";
import { consumeFleetBatch } from "../server/fleet-queue";
import type { FleetRunProgress } from "../server/services/fleet";
import { runFleetStep } from "../server/services/fleet-steps";
import { adminFetch, operatorWithToken } from "./helpers";

const LATEST = TENANT_MIGRATIONS.length;

/** Marks tenants behind every migration, with none applied: a run really applies them all again. */
async function setBehind(tenants: TestTenant[]) {
  for (const t of tenants) {
    await env.CONTROL_DB.prepare("UPDATE tenants SET schema_version = 0 WHERE id = ?")
      .bind(t.tenant.id)
      .run();
    await tenantD1(t).prepare("DELETE FROM _tenant_migrations").run();
    await wipe(tenantD1(t));
  }
}

/** Drops every table but the bookkeeping one (the migrations create them all). */
async function wipe(d1: D1Database) {
  const tables = await d1
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != '_tenant_migrations'",
    )
    .all<{ name: string }>();
  await d1.batch(tables.results.map((t) => d1.prepare(`DROP TABLE "${t.name}"`)));
}

async function rows(runId: string) {
  const r = await env.CONTROL_DB.prepare(
    "SELECT tenant_id, wave, state, updated_at FROM fleet_run_tenants WHERE run_id = ? ORDER BY wave, tenant_id",
  )
    .bind(runId)
    .all<{ tenant_id: string; wave: number; state: string; updated_at: number }>();
  return r.results;
}

/** Delivers the current wave's pending steps (in parallel, as a consumer batch may). */
async function deliverWave(runId: string) {
  const pending = (await rows(runId)).filter((r) => r.state === "pending");
  const outcomes = await Promise.all(
    pending.map((r) =>
      runFleetStep({
        ctx: { env },
        input: { run_id: runId, tenant_id: r.tenant_id, wave: r.wave },
      }),
    ),
  );
  return { waves: [...new Set(pending.map((r) => r.wave))], outcomes };
}

async function progress(runId: string, token: string) {
  const res = await adminFetch(`/api/v1/fleet/runs/${runId}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as FleetRunProgress;
}

async function start(token: string, body: Record<string, unknown> = {}) {
  return adminFetch("/api/v1/fleet/runs", {
    method: "POST",
    token,
    body: JSON.stringify({ reason: "ship tenant schema", first_wave: 2, growth: 2, ...body }),
  });
}

async function auditCount(runId: string) {
  const row = await env.CONTROL_DB.prepare(
    "SELECT COUNT(*) AS n FROM platform_audit_log WHERE action = 'fleet.migrate' AND target_id = ?",
  )
    .bind(runId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("fleet migration runs", () => {
  it("migrates tenants behind in waves: the canary alone first, then growing waves", async () => {
    const admin = await operatorWithToken("platform_admin");
    const tenants = await Promise.all(Array.from({ length: 6 }, () => createTenant()));
    await setBehind(tenants);
    const res = await start(admin.token);
    expect(res.status).toBe(202);
    const started = (await res.json()) as FleetRunProgress;
    const runId = started.run.id;
    expect(started.run).toMatchObject({ state: "running", wave: 0, targetVersion: LATEST });
    expect(await auditCount(runId)).toBe(1);

    // Only the canary is planned until it is done.
    const ids = tenants.map((t) => t.tenant.id).sort();
    expect(await rows(runId)).toMatchObject([{ tenant_id: ids[0], wave: 0, state: "pending" }]);
    expect(await deliverWave(runId)).toEqual({ waves: [0], outcomes: ["done"] });
    expect((await rows(runId)).filter((r) => r.wave === 1).map((r) => r.tenant_id)).toEqual(
      ids.slice(1, 3),
    );
    expect((await deliverWave(runId)).waves).toEqual([1]);
    // Wave 2 would take 4; 3 remain.
    expect((await rows(runId)).filter((r) => r.wave === 2)).toHaveLength(3);
    expect((await deliverWave(runId)).waves).toEqual([2]);

    const done = await progress(runId, admin.token);
    expect(done.run).toMatchObject({ state: "completed", lock: null });
    expect(done.waves).toEqual([
      { wave: 0, pending: 0, done: 1, failed: 0 },
      { wave: 1, pending: 0, done: 2, failed: 0 },
      { wave: 2, pending: 0, done: 3, failed: 0 },
    ]);
    expect(done.behind).toBe(0);
    for (const t of tenants) {
      const row = await env.CONTROL_DB.prepare("SELECT schema_version FROM tenants WHERE id = ?")
        .bind(t.tenant.id)
        .first();
      expect(row).toEqual({ schema_version: LATEST });
      const table = await tenantD1(t)
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'projects'")
        .first();
      expect(table).toEqual({ name: "projects" });
    }
    // Nothing left to migrate.
    expect((await start(admin.token)).status).toBe(409);
  });

  it("halts when the canary fails, and resuming continues without redoing done tenants", async () => {
    const admin = await operatorWithToken("platform_admin");
    const tenants = await Promise.all(Array.from({ length: 4 }, () => createTenant()));
    await setBehind(tenants);
    const ids = tenants.map((t) => t.tenant.id).sort();
    const canary = tenants.find((t) => t.tenant.id === ids[0])!;
    // An injected fault: a table in the way makes the canary's migration fail.
    await tenantD1(canary).prepare("CREATE TABLE api_keys (id text)").run();

    const runId = ((await (await start(admin.token, { first_wave: 1 })).json()) as FleetRunProgress)
      .run.id;
    expect(await deliverWave(runId)).toEqual({ waves: [0], outcomes: ["failed"] });
    const halted = await progress(runId, admin.token);
    expect(halted.run).toMatchObject({
      state: "halted",
      wave: 0,
      haltReason: "The canary failed.",
    });
    expect(halted.failures).toEqual([
      { tenant_id: ids[0], wave: 0, error: expect.stringContaining("api_keys") },
    ]);
    // No wave after a failed canary; a new run cannot start while this one is open.
    expect(await rows(runId)).toHaveLength(1);
    expect((await start(admin.token)).status).toBe(409);

    await tenantD1(canary).prepare("DROP TABLE api_keys").run();
    const resume = () =>
      adminFetch(`/api/v1/fleet/runs/${runId}/resume`, {
        method: "POST",
        token: admin.token,
        body: JSON.stringify({ reason: "fixed the canary" }),
      });
    expect((await resume()).status).toBe(202);
    expect(await auditCount(runId)).toBe(2);
    expect(await deliverWave(runId)).toEqual({ waves: [0], outcomes: ["done"] });
    expect((await deliverWave(runId)).waves).toEqual([1]);
    const before = await rows(runId);

    // A redelivered step of a done tenant changes nothing.
    expect(
      await runFleetStep({ ctx: { env }, input: { run_id: runId, tenant_id: ids[0]!, wave: 0 } }),
    ).toBe("skipped");
    // Resuming a running run only re-sends its pending steps; done tenants stay done.
    expect((await resume()).status).toBe(202);
    const after = await rows(runId);
    for (const r of before.filter((b) => b.state === "done")) {
      expect(after).toContainEqual(r);
    }
    while ((await progress(runId, admin.token)).run.state === "running") await deliverWave(runId);
    const done = await progress(runId, admin.token);
    expect(done.run.state).toBe("completed");
    expect(done.waves.map((w) => w.done)).toEqual([1, 1, 2]);
  });

  it("lets only one of two simultaneous starts open a run", async () => {
    const admin = await operatorWithToken("platform_admin");
    const tenants = [await createTenant(), await createTenant()];
    await setBehind(tenants);
    const answers = await Promise.all([start(admin.token), start(admin.token), start(admin.token)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    const bodies = await Promise.all(answers.map((a) => a.json() as Promise<{ code?: string }>));
    expect(bodies.filter((b) => b.code === "fleet_run_open")).toHaveLength(2);
    const open = await env.CONTROL_DB.prepare(
      "SELECT id FROM fleet_runs WHERE lock IS NOT NULL",
    ).all<{ id: string }>();
    expect(open.results).toHaveLength(1);
    const audits = await env.CONTROL_DB.prepare(
      "SELECT COUNT(*) AS n FROM platform_audit_log WHERE action = 'fleet.migrate' AND reason = 'ship tenant schema' AND actor_id = ?",
    )
      .bind(admin.id)
      .first<{ n: number }>();
    expect(audits?.n).toBe(1);
    const runId = open.results[0]!.id;
    // This time through the queue consumer, as the FLEET queue delivers batches.
    while ((await progress(runId, admin.token)).run.state === "running") {
      const pending = (await rows(runId)).filter((r) => r.state === "pending");
      const batch = createMessageBatch<FleetMessage>(
        "tenantry-fleet",
        pending.map((r, i) => ({
          id: `m-${r.tenant_id}-${i}`,
          timestamp: new Date(),
          attempts: 1,
          body: { run_id: runId, tenant_id: r.tenant_id, wave: r.wave },
        })),
      );
      await consumeFleetBatch(env, batch);
      const result = await getQueueResult(batch, createExecutionContext());
      expect(result.explicitAcks).toHaveLength(pending.length);
    }
    expect((await progress(runId, admin.token)).run.state).toBe("completed");
  });

  it("shows versions and the pool, and keeps runs to platform admins", async () => {
    const reader = await operatorWithToken("read_only");
    const billing = await operatorWithToken("billing");
    const res = await adminFetch("/api/v1/fleet", { token: reader.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      latest_version: number;
      versions: { version: number; tenants: number }[];
      pool: { free: number; low: boolean; low_water: number };
    };
    expect(body.latest_version).toBe(LATEST);
    expect(body.versions.every((v) => v.version === LATEST)).toBe(true);
    expect(body.pool.free).toBeGreaterThan(0);
    expect((await start(reader.token)).status).toBe(403);
    expect((await start(billing.token)).status).toBe(403);
    const tenantsRes = await adminFetch("/api/v1/fleet/tenants?limit=2", { token: reader.token });
    expect(tenantsRes.status).toBe(200);
    expect(((await tenantsRes.json()) as { data: unknown[] }).data).toHaveLength(2);
  });
});
