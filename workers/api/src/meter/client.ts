import type { Env } from "../env";

/** The tenant's meter (one Durable Object per tenant, named by the tenant id: rule 5). */
export function meterFor(env: Env, tenantId: string) {
  return env.TENANT_METER.getByName(tenantId);
}
