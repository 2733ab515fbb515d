import * as tenantSchema from "@tenantry/schema/tenant";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { CoreEnv } from "./env";

/**
 * The seam: the only way to reach a tenant's data. The registry row names the database; a request
 * never does. Today the backend is a pool of D1 databases bound to the worker; another backend
 * (sharded workers, a SQLite Durable Object per tenant) would change this module, not services.
 */
export interface TenantDb {
  tenantId: string;
  d1: D1Database;
  orm: DrizzleD1Database<typeof tenantSchema>;
}

export interface TenantLocator {
  id: string;
  databaseBinding: string | null;
}

export const POOL_BINDING = /^TENANT_DB_\d{4,}$/;

export function poolDatabase(env: CoreEnv, binding: string): D1Database {
  const d1 = POOL_BINDING.test(binding)
    ? (env as unknown as Record<string, unknown>)[binding]
    : undefined;
  if (!d1) throw new Error(`tenant database binding ${binding} is not bound to this worker`);
  return d1 as D1Database;
}

// drizzle instances per database binding object, reused across requests of the isolate (an
// optimisation: building one walks the whole schema).
const orms = new WeakMap<D1Database, TenantDb["orm"]>();

export function tenantDb(env: CoreEnv, tenant: TenantLocator): TenantDb {
  if (!tenant.databaseBinding) throw new Error(`tenant ${tenant.id} has no database yet`);
  const d1 = poolDatabase(env, tenant.databaseBinding);
  let orm = orms.get(d1);
  if (!orm) {
    orm = drizzle(d1, { schema: tenantSchema });
    orms.set(d1, orm);
  }
  return { tenantId: tenant.id, d1, orm };
}

/** Pool bindings this worker has, generated into wrangler.toml from the pool manifest. */
export function poolBindings(env: CoreEnv): string[] {
  return Object.keys(env)
    .filter((k) => POOL_BINDING.test(k))
    .sort();
}
