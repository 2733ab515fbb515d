import { z } from "zod";
import {
  CATALOG,
  type Catalog,
  type Feature,
  FeatureSchema,
  LIMITS,
  type LimitKey,
  LimitKeySchema,
  LimitSchema,
  type PlanId,
  PlanIdSchema,
  type RateLimit,
  RateLimitSchema,
} from "./catalog.js";
import { evaluateFlags, type FlagDefinition, FlagKeySchema } from "./flags.js";

// Entitlements = the plan's defaults ⊕ the tenant's overrides, under the access state that the
// billing status allows. Everything here is a pure function of its inputs (time included), so
// the API, the webhooks consumer and the tenant meter evaluate the same way and tests need no
// clock.

/**
 * What billing allows the tenant to do:
 * - `full`: the plan's entitlements;
 * - `read_only`: the plan's entitlements, but nothing may be created or changed;
 * - `free_limits`: the free plan's entitlements (data is kept; what exceeds them is read-only).
 */
export const ACCESS_STATES = ["full", "read_only", "free_limits"] as const;
export const AccessStateSchema = z.enum(ACCESS_STATES);
export type AccessState = z.infer<typeof AccessStateSchema>;

/** Stripe's subscription statuses (`Stripe.Subscription.Status`). */
export const SUBSCRIPTION_STATUSES = [
  "active",
  "trialing",
  "past_due",
  "unpaid",
  "canceled",
  "incomplete",
  "incomplete_expired",
  "paused",
] as const;
export const SubscriptionStatusSchema = z.enum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

export const DEFAULT_GRACE_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;

export interface SubscriptionAccessInput {
  /** The subscription's status; `null` when the tenant has no subscription (free). */
  status: SubscriptionStatus | null;
  /**
   * When the subscription became `past_due` (epoch ms): persist the first time it was seen, or
   * take the failed invoice's creation time. `null` while past_due starts the grace now.
   */
  pastDueSince: number | null;
  now: number;
  /** Default 7 days. */
  gracePeriodMs?: number;
}

export interface AccessDecision {
  access: AccessState;
  /** While past_due within grace: when read-only begins; re-evaluate then. Otherwise null. */
  graceEndsAt: number | null;
}

/**
 * Maps a Stripe subscription status to access:
 * - `active`, `trialing` → `full` (the plan);
 * - `past_due` → `full` until the grace period ends (default 7 days after `pastDueSince`),
 *   then `read_only`: Stripe is still retrying the payment, so the customer keeps working for a
 *   while but cannot keep adding to an unpaid account indefinitely;
 * - `paused` → `read_only` (the customer chose to stop paying but keeps the subscription);
 * - `unpaid`, `canceled`, `incomplete_expired` → `free_limits`: the subscription no longer pays;
 * - `incomplete` → `free_limits`: the first payment has not succeeded yet, so the plan was never
 *   bought (Stripe expires it after 23 hours);
 * - no subscription → `free_limits`;
 * - a status this code does not know → `read_only` (fail safe until the mapping is extended).
 */
export function accessForSubscription(input: SubscriptionAccessInput): AccessDecision {
  switch (input.status) {
    case "active":
    case "trialing":
      return { access: "full", graceEndsAt: null };
    case "past_due": {
      const graceEndsAt =
        (input.pastDueSince ?? input.now) + (input.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS);
      return input.now < graceEndsAt
        ? { access: "full", graceEndsAt }
        : { access: "read_only", graceEndsAt: null };
    }
    case "paused":
      return { access: "read_only", graceEndsAt: null };
    case "unpaid":
    case "canceled":
    case "incomplete":
    case "incomplete_expired":
    case null:
      return { access: "free_limits", graceEndsAt: null };
    default:
      // A status newer than this code (arriving unvalidated): neither grant nor drop the plan.
      return { access: "read_only", graceEndsAt: null };
  }
}

const overrideFields = {
  /** Why the override exists (a deal, a support case); shown to operators and audited. */
  reason: z.string().trim().min(1),
  /** Epoch ms; the override is ignored from then on. Absent or null: no expiry. */
  expiresAt: z.number().int().nullable().optional(),
};

export const FeatureOverrideSchema = z.object({
  type: z.literal("feature"),
  key: FeatureSchema,
  value: z.boolean(),
  ...overrideFields,
});

export const LimitOverrideSchema = z.object({
  type: z.literal("limit"),
  key: LimitKeySchema,
  /** `null` = unlimited. */
  value: z.number().int().nonnegative().nullable(),
  /** Absent: keep the plan's hard/soft setting. */
  hard: z.boolean().optional(),
  ...overrideFields,
});

export const FlagOverrideSchema = z.object({
  type: z.literal("flag"),
  key: FlagKeySchema,
  value: z.boolean(),
  ...overrideFields,
});

/**
 * Budgets every plan has, outside the plan's own (see `rateLimits` below): requests that must
 * work even when the tenant's budget or quota is spent (sign-out, billing, revocations), and
 * refusals for a missing permission, which must not spend the tenant's budget.
 */
export const PLATFORM_RATE_LIMITS = {
  essential: { perSecond: 10, perMinute: 120 },
  refused: { perSecond: 5, perMinute: 60 },
} as const satisfies Record<string, RateLimit>;

/** A tenant's request budget raised or lowered (a deal, a load test, a noisy tenant). */
export const RateLimitOverrideSchema = z.object({
  type: z.literal("rate_limit"),
  key: z.enum(["tenant", "apiKey", "expensive", "essential", "refused"]),
  value: RateLimitSchema,
  ...overrideFields,
});

/** One per-tenant override, as stored in the control plane. */
export const EntitlementOverrideSchema = z.discriminatedUnion("type", [
  FeatureOverrideSchema,
  LimitOverrideSchema,
  FlagOverrideSchema,
  RateLimitOverrideSchema,
]);
export type EntitlementOverride = z.infer<typeof EntitlementOverrideSchema>;

export function isOverrideActive(override: EntitlementOverride, now: number): boolean {
  return (
    override.expiresAt === undefined || override.expiresAt === null || override.expiresAt > now
  );
}

/** The evaluated set (also the body of `GET /v1/entitlements`). */
export const EntitlementsSchema = z.object({
  /** The tenant's plan (what it subscribes to). */
  plan: PlanIdSchema,
  /** The plan whose defaults apply: `free` under `free_limits`, else `plan`. */
  effectivePlan: PlanIdSchema,
  access: AccessStateSchema,
  features: z.record(FeatureSchema, z.boolean()),
  limits: z.record(LimitKeySchema, LimitSchema),
  /**
   * Request budgets (per second and per minute) for the tenant, each API key, expensive routes,
   * essential routes and permission refusals.
   */
  rateLimits: z.object({
    tenant: RateLimitSchema,
    apiKey: RateLimitSchema,
    expensive: RateLimitSchema,
    essential: RateLimitSchema,
    refused: RateLimitSchema,
  }),
  flags: z.record(z.string(), z.boolean()),
  /** The overrides in force at evaluation time, for display and audit. */
  overrides: z.array(EntitlementOverrideSchema),
});
export type Entitlements = z.infer<typeof EntitlementsSchema>;

export interface EvaluateEntitlementsInput {
  plan: PlanId;
  /** The tenant's overrides in creation order: for the same key, a later one wins. */
  overrides?: readonly EntitlementOverride[];
  flags?: readonly FlagDefinition[];
  tenantId: string;
  /** Epoch ms; decides which overrides have expired. */
  now: number;
  access: AccessState;
  catalog?: Catalog;
}

/**
 * Plan defaults ⊕ overrides. Under `free_limits` the free plan's defaults apply. Overrides apply
 * in every access state: they are deliberate per-tenant decisions with their own expiry, and the
 * billing state lowers the plan baseline, not what an operator granted. Flags are evaluated
 * against the effective plan, so plan-gated rollouts follow what the tenant currently gets.
 */
export function evaluateEntitlements(input: EvaluateEntitlementsInput): Entitlements {
  const catalog = input.catalog ?? CATALOG;
  const effectivePlan: PlanId = input.access === "free_limits" ? "free" : input.plan;
  const defaults = catalog.plans[effectivePlan];
  const features = { ...defaults.features };
  const limits = Object.fromEntries(
    LIMITS.map((key) => [key, { ...defaults.limits[key] }]),
  ) as Entitlements["limits"];
  const rateLimits: Entitlements["rateLimits"] = {
    ...PLATFORM_RATE_LIMITS,
    ...defaults.rateLimits,
  };
  const flagOverrides: Record<string, boolean> = {};
  const active = (input.overrides ?? []).filter((o) => isOverrideActive(o, input.now));
  for (const override of active) {
    switch (override.type) {
      case "feature":
        features[override.key] = override.value;
        break;
      case "limit":
        limits[override.key] = {
          value: override.value,
          hard: override.hard ?? limits[override.key].hard,
        };
        break;
      case "flag":
        flagOverrides[override.key] = override.value;
        break;
      case "rate_limit":
        rateLimits[override.key] = override.value;
        break;
    }
  }
  return {
    plan: input.plan,
    effectivePlan,
    access: input.access,
    features,
    limits,
    rateLimits,
    flags: evaluateFlags(input.flags ?? [], {
      tenantId: input.tenantId,
      plan: effectivePlan,
      overrides: flagOverrides,
    }),
    overrides: active,
  };
}

export function hasFeature(entitlements: Entitlements, feature: Feature): boolean {
  return entitlements.features[feature];
}

/** Thrown by `requireFeature`; the API maps it to a 403 problem naming the feature. */
export class FeatureNotEntitledError extends Error {
  readonly feature: Feature;
  readonly plan: PlanId;
  readonly access: AccessState;

  constructor(feature: Feature, entitlements: Entitlements) {
    super(`The ${entitlements.effectivePlan} plan does not include the feature "${feature}".`);
    this.name = "FeatureNotEntitledError";
    this.feature = feature;
    this.plan = entitlements.effectivePlan;
    this.access = entitlements.access;
  }
}

/**
 * Throws unless the feature is entitled. Read-only access does not revoke features (a past-due
 * tenant can still sign in with SSO and export its audit log); writes are refused by
 * `checkLimit` and by the API's access check instead.
 */
export function requireFeature(entitlements: Entitlements, feature: Feature): void {
  if (!entitlements.features[feature]) throw new FeatureNotEntitledError(feature, entitlements);
}

interface LimitCheckFields {
  limit: LimitKey;
  /** The limit in force; `null` = unlimited. */
  value: number | null;
  hard: boolean;
  /** Usage before this request. */
  used: number;
  /** What this request adds. */
  requested: number;
  /** Room left before the request (never negative); `null` when unlimited. */
  remaining: number | null;
}

export type LimitCheckResult =
  | (LimitCheckFields & {
      allowed: true;
      /** Units of this request above a soft limit (record them; bill them if metered). */
      overage: number;
    })
  | (LimitCheckFields & {
      allowed: false;
      /** `limit_exceeded`: a hard limit; `read_only`: billing allows no additions at all. */
      reason: "limit_exceeded" | "read_only";
    });

/**
 * Whether `increment` more units fit: `currentUsage + increment ≤ value` for hard limits;
 * soft limits always allow and report the overage. Under `read_only` nothing may be added.
 * Releasing (increment ≤ 0) is always allowed. The result names the limit, so callers can answer
 * with a problem that says which one (403/409 for seats and projects, 429 for usage).
 */
export function checkLimit(
  entitlements: Entitlements,
  limit: LimitKey,
  currentUsage: number,
  increment = 1,
): LimitCheckResult {
  const { value, hard } = entitlements.limits[limit];
  const fields: LimitCheckFields = {
    limit,
    value,
    hard,
    used: currentUsage,
    requested: increment,
    remaining: value === null ? null : Math.max(0, value - currentUsage),
  };
  if (increment <= 0) return { ...fields, allowed: true, overage: 0 };
  if (entitlements.access === "read_only")
    return { ...fields, allowed: false, reason: "read_only" };
  if (value === null) return { ...fields, allowed: true, overage: 0 };
  const after = currentUsage + increment;
  if (after <= value) return { ...fields, allowed: true, overage: 0 };
  if (hard) return { ...fields, allowed: false, reason: "limit_exceeded" };
  return {
    ...fields,
    allowed: true,
    overage: Math.min(increment, after - value),
  };
}
