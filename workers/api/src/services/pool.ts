import {
  poolStatus as corePoolStatus,
  inChunks,
  log,
  type PoolStatus,
  poolBindings,
} from "@tenantry/core";
import { tenantDatabases } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ServiceUnavailableError } from "../errors";

// Pool rows are mirrored from the bindings once per isolate (an optimisation: the insert is
// idempotent, and claiming is atomic in the database).
let mirroredCount = -1;

async function mirrorPool(env: Env): Promise<void> {
  const bindings = poolBindings(env);
  if (bindings.length === mirroredCount) return;
  const db = controlDb(env);
  const [first, ...rest] = inChunks(bindings).map((chunk) =>
    db
      .insert(tenantDatabases)
      .values(chunk.map((binding) => ({ binding })))
      .onConflictDoNothing(),
  );
  if (first) await db.batch([first, ...rest]);
  mirroredCount = bindings.length;
}

export class CapacityExhaustedError extends ServiceUnavailableError {
  constructor() {
    super(
      "tenant_capacity_exhausted",
      "No tenant database is free. An operator must grow the pool (npm run pool:grow -- N) and deploy.",
      300,
    );
  }
}

/**
 * Assigns a free database bound to this worker to the tenant, or returns the one it already
 * holds (so the step can be retried).
 */
export async function claimDatabase(env: Env, tenantId: string): Promise<string> {
  await mirrorPool(env);
  const held = await controlDb(env)
    .select({ binding: tenantDatabases.binding })
    .from(tenantDatabases)
    .where(eq(tenantDatabases.tenantId, tenantId))
    .get();
  if (held) return held.binding;
  // Raw SQL on purpose: the bound pool (up to ~5,000 bindings) travels as one JSON parameter
  // (json_each), which D1's 100-parameter limit rules out for an IN list; the claim is one
  // atomic statement.
  const claimed = await env.CONTROL_DB.prepare(
    `UPDATE tenant_databases SET tenant_id = ?1, assigned_at = ?2
     WHERE binding = (SELECT binding FROM tenant_databases
                     WHERE tenant_id IS NULL AND binding IN (SELECT value FROM json_each(?3))
                     ORDER BY binding LIMIT 1)
     RETURNING binding`,
  )
    .bind(tenantId, Date.now(), JSON.stringify(poolBindings(env)))
    .first<{ binding: string }>();
  if (!claimed) throw new CapacityExhaustedError();
  await warnIfPoolLow(env);
  return claimed.binding;
}

/** The bound pool's counts against this worker's POOL_LOW_WATER. */
export function poolStatus(env: Env): Promise<PoolStatus> {
  return corePoolStatus(env, config(env).POOL_LOW_WATER);
}

/** Logs a structured warning for operators when the pool is at or below its low-water mark. */
export async function warnIfPoolLow(env: Env): Promise<PoolStatus> {
  const status = await poolStatus(env);
  if (status.low) {
    log.warn("tenant database pool is low: grow it (npm run pool:grow -- N) and deploy", {
      ...status,
    });
  }
  return status;
}
