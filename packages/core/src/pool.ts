import type { CoreEnv } from "./env";
import { poolBindings } from "./tenant-db";

export interface PoolStatus {
  /** Databases bound to this worker. */
  size: number;
  assigned: number;
  free: number;
  low_water: number;
  /** Whether `free` is at or below `low_water`: time to grow the pool. */
  low: boolean;
}

/**
 * Counts of the bound pool; reads only, so a health probe never writes. `lowWater` is the
 * worker's POOL_LOW_WATER; unset, it is 10% of the pool, at least 2.
 */
export async function poolStatus(env: CoreEnv, lowWater?: number): Promise<PoolStatus> {
  const bindings = poolBindings(env);
  // Raw SQL on purpose: the bound pool (up to ~5,000 bindings) travels as one JSON parameter
  // (json_each), which D1's 100-parameter limit rules out for an IN list.
  const row = await env.CONTROL_DB.prepare(
    `SELECT COUNT(*) AS assigned FROM tenant_databases
     WHERE tenant_id IS NOT NULL AND binding IN (SELECT value FROM json_each(?))`,
  )
    .bind(JSON.stringify(bindings))
    .first<{ assigned: number }>();
  const size = bindings.length;
  const assigned = row?.assigned ?? 0;
  // Bindings not yet mirrored into tenant_databases are free too.
  const free = size - assigned;
  const low_water = lowWater ?? Math.max(2, Math.ceil(size * 0.1));
  return { size, assigned, free, low_water, low: free <= low_water };
}
