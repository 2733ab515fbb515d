import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamps } from "../columns";

/** `running` → `halted` (failures passed the threshold) → `running` (resumed) → `completed`. */
export const FLEET_RUN_STATES = ["running", "halted", "completed"] as const;
export type FleetRunState = (typeof FLEET_RUN_STATES)[number];

/**
 * Fleet migration runs: pending tenant migrations applied to every tenant database in waves (a
 * canary of one, then growing waves), driven by the FLEET queue (apps/admin, ADR 014).
 */
export const fleetRuns = sqliteTable("fleet_runs", {
  id: text("id").primaryKey(),
  state: text("state", { enum: FLEET_RUN_STATES }).notNull(),
  /** `open` while the run is running or halted, null once completed: one open run at a time. */
  lock: text("lock").unique(),
  /** The schema version the run brings tenants to (the number of tenant migrations). */
  targetVersion: integer("target_version").notNull(),
  /** The wave being migrated (0 is the canary); -1 before the first is planned. */
  wave: integer("wave").notNull(),
  /** The size of the first wave after the canary; each next wave is `growth` times larger. */
  firstWave: integer("first_wave").notNull(),
  growth: integer("growth").notNull(),
  /** A wave halts the run when more than this percentage of it failed (the canary: any). */
  maxFailurePercent: integer("max_failure_percent").notNull(),
  /** The last tenant id planned into a wave: waves take tenants in id order after it. */
  cursor: text("cursor").notNull(),
  haltReason: text("halt_reason"),
  startedBy: text("started_by").notNull(),
  ...timestamps,
});

export const FLEET_TENANT_STATES = ["pending", "done", "failed"] as const;

/** Each tenant of a run, with its wave and outcome; a step moves it out of `pending` once. */
export const fleetRunTenants = sqliteTable(
  "fleet_run_tenants",
  {
    runId: text("run_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    wave: integer("wave").notNull(),
    state: text("state", { enum: FLEET_TENANT_STATES }).notNull(),
    fromVersion: integer("from_version").notNull(),
    toVersion: integer("to_version"),
    error: text("error"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.tenantId] }),
    index("fleet_run_tenants_wave_idx").on(t.runId, t.wave, t.state),
  ],
);
