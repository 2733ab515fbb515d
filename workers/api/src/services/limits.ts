import { log, meterFor } from "@tenantry/core";
import type { LimitKey } from "@tenantry/plans";
import type { Env } from "../env";
import { ForbiddenError } from "../errors";

export interface Reservation {
  /** The change that needed the unit is written. */
  settle(): Promise<void>;
  /** The change did not happen: the unit goes back (once, however often this is called). */
  release(): Promise<void>;
}

/**
 * Takes one unit of a gauge (seats, or one of the product's) from the tenant's meter, which checks
 * and counts in one step, so concurrent requests can never overshoot the limit. Each call is its
 * own attempt with its own key (a retry of a failed attempt takes again, and a release gives back
 * only its own attempt's unit). Refusal is a 403 problem naming the limit, its value and the plan,
 * or `billing_read_only` when billing allows no additions.
 */
/** A gauge limit of the catalog: seats, or one a product registers (see `platform.ts`). */
type Gauge = LimitKey;

export async function reserveUnit(env: Env, tenantId: string, gauge: Gauge): Promise<Reservation> {
  const key = `${gauge}:${crypto.randomUUID()}`;
  const meter = meterFor(env.TENANT_METER, tenantId);
  const result = await meter.consume(tenantId, { metric: gauge, amount: 1, key, reserve: true });
  if (!result.allowed) {
    const extra = {
      limit: gauge,
      limit_value: result.limit,
      used: result.used,
      plan: result.plan,
    };
    if (result.reason === "read_only") {
      throw new ForbiddenError(
        "Billing allows no additions right now; settle the subscription first.",
        "billing_read_only",
        extra,
      );
    }
    throw new ForbiddenError(
      `The ${result.plan} plan allows ${result.limit} ${gauge}; upgrade or remove some first.`,
      "plan_limit_reached",
      extra,
    );
  }
  return {
    settle: async () => {
      // Not fatal: an unsettled reservation lapses, and re-derivation counts the written row.
      await meter.settle(tenantId, key).catch((err: unknown) => {
        log.forTenant(tenantId).warn("settle failed", { key, error: String(err) });
      });
    },
    release: () => meter.cancel(tenantId, key),
  };
}

/** Gives back the unit of something that existed (a member removed, a product row deleted). */
export async function releaseUnit(env: Env, tenantId: string, gauge: Gauge, key: string) {
  await meterFor(env.TENANT_METER, tenantId).consume(tenantId, {
    metric: gauge,
    amount: -1,
    key: `${key}:release`,
  });
}
