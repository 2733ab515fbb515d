import { poolBindings } from "@tenantry/core";
import type { Env } from "../env";
import { ServiceUnavailableError } from "../errors";

// Pool rows are mirrored from the bindings once per isolate (an optimisation: the insert is
// idempotent, and claiming is atomic in the database).
let mirroredCount = -1;

async function mirrorPool(env: Env): Promise<void> {
  const bindings = poolBindings(env);
  if (bindings.length === mirroredCount) return;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < bindings.length; i += 90) {
    const chunk = bindings.slice(i, i + 90);
    statements.push(
      env.CONTROL_DB.prepare(
        `INSERT OR IGNORE INTO tenant_databases (binding) VALUES ${chunk.map(() => "(?)").join(", ")}`,
      ).bind(...chunk),
    );
  }
  if (statements.length > 0) await env.CONTROL_DB.batch(statements);
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
  const held = await env.CONTROL_DB.prepare(
    "SELECT binding FROM tenant_databases WHERE tenant_id = ?",
  )
    .bind(tenantId)
    .first<{ binding: string }>();
  if (held) return held.binding;
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
  return claimed.binding;
}
