import { z } from "zod";
import { type PlanId, PlanIdSchema } from "./catalog.js";

// Rollout flags: switch code paths on for some tenants before all of them. A flag is decided, in
// order of precedence, by a per-tenant override, by the tenant's plan, by a percentage rollout on
// a stable hash of the tenant id, and finally by its default.

export const FlagKeySchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, {
  message: "flag keys are lower-case letters, digits, '_', '.' and '-' (at most 64)",
});

export const FlagDefinitionSchema = z.object({
  key: FlagKeySchema,
  description: z.string().optional(),
  default: z.boolean(),
  /** On or off for every tenant of a plan; plans not named fall through to the percentage. */
  plans: z.partialRecord(PlanIdSchema, z.boolean()).optional(),
  /** Share of tenants (0–100, resolution 0.01) that get the flag, chosen by `rolloutBucket`. */
  percentage: z.number().min(0).max(100).optional(),
});
export type FlagDefinition = z.infer<typeof FlagDefinitionSchema>;

export const FLAG_SOURCES = ["tenant", "plan", "percentage", "default"] as const;
export type FlagSource = (typeof FLAG_SOURCES)[number];

export interface FlagContext {
  tenantId: string;
  /** The plan whose defaults the tenant gets (`free` while a canceled tenant is on free limits). */
  plan: PlanId;
  /** The tenant's own override, if one is in force. */
  override?: boolean | undefined;
}

export interface FlagEvaluation {
  key: string;
  enabled: boolean;
  source: FlagSource;
}

/** Buckets per 100 %: a percentage is honoured to 0.01. */
export const ROLLOUT_BUCKETS = 10_000;

const encoder = new TextEncoder();

/**
 * FNV-1a, 32-bit, over the UTF-8 bytes of `input` (http://www.isthe.com/chongo/tech/comp/fnv/).
 * Plain integer arithmetic (`Math.imul`), so Node, workerd and browsers agree bit for bit; sync,
 * so flag checks cost no await on the request path.
 */
export function fnv1a32(input: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(input)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's fmix32 finalizer. FNV-1a's low bits depend only on the low bits of the input
 * bytes, and a bucket is taken modulo 10,000; mixing spreads every input bit over the result,
 * so ids that differ only in their last character do not land in correlated buckets.
 */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The tenant's bucket for a flag, 0 ≤ bucket < 10,000: fmix32(fnv1a32("<flag>:<tenant>")) mod
 * 10,000. The flag key is part of the input so that each flag picks its own cohort (the same
 * tenants are not always first); a tenant's bucket never changes, so raising a percentage only
 * adds tenants.
 */
export function rolloutBucket(flagKey: string, tenantId: string): number {
  return fmix32(fnv1a32(`${flagKey}:${tenantId}`)) % ROLLOUT_BUCKETS;
}

export function inRollout(flagKey: string, tenantId: string, percentage: number): boolean {
  return rolloutBucket(flagKey, tenantId) < Math.round(percentage * (ROLLOUT_BUCKETS / 100));
}

/** Tenant override > plan > percentage > default. */
export function evaluateFlag(flag: FlagDefinition, context: FlagContext): FlagEvaluation {
  const { key } = flag;
  if (context.override !== undefined) {
    return { key, enabled: context.override, source: "tenant" };
  }
  const byPlan = flag.plans?.[context.plan];
  if (byPlan !== undefined) return { key, enabled: byPlan, source: "plan" };
  if (flag.percentage !== undefined) {
    return {
      key,
      enabled: inRollout(key, context.tenantId, flag.percentage),
      source: "percentage",
    };
  }
  return { key, enabled: flag.default, source: "default" };
}

/** Every flag for one tenant; `overrides` maps flag keys to the tenant's own overrides. */
export function evaluateFlags(
  flags: readonly FlagDefinition[],
  context: { tenantId: string; plan: PlanId; overrides?: Readonly<Record<string, boolean>> },
): Record<string, boolean> {
  const result: Record<string, boolean> = {};
  for (const flag of flags) {
    // hasOwn: a flag named like an Object.prototype member must not read the prototype.
    const overrides = context.overrides;
    const override =
      overrides && Object.hasOwn(overrides, flag.key) ? overrides[flag.key] : undefined;
    result[flag.key] = evaluateFlag(flag, { ...context, override }).enabled;
  }
  return result;
}
