import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  type AccessState,
  accessForSubscription,
  CATALOG,
  checkLimit,
  DEFAULT_GRACE_PERIOD_MS,
  type EntitlementOverride,
  EntitlementOverrideSchema,
  EntitlementsSchema,
  evaluateEntitlements,
  FeatureNotEntitledError,
  type FlagDefinition,
  hasFeature,
  PLATFORM_RATE_LIMITS,
  requireFeature,
  SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
} from "../src/index";

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const TENANT = "ten_01KDX9Z3M4ABCDEFGHJKMNPQRS";

function evaluate(
  plan: "free" | "pro" | "business" | "enterprise",
  options: {
    overrides?: EntitlementOverride[];
    access?: AccessState;
    flags?: FlagDefinition[];
  } = {},
) {
  return evaluateEntitlements({
    plan,
    overrides: options.overrides ?? [],
    flags: options.flags ?? [],
    tenantId: TENANT,
    now: NOW,
    access: options.access ?? "full",
  });
}

describe("evaluateEntitlements", () => {
  it("overrides a request budget for one tenant, until the override expires", () => {
    const raised = {
      type: "rate_limit" as const,
      key: "tenant" as const,
      value: { perSecond: 500, perMinute: 20_000 },
      reason: "launch week",
      expiresAt: NOW + 1000,
    };
    const during = evaluate("pro", { overrides: [raised] });
    expect(during.rateLimits.tenant).toEqual({ perSecond: 500, perMinute: 20_000 });
    expect(during.rateLimits.apiKey).toEqual(CATALOG.plans.pro.rateLimits.apiKey);
    const after = evaluate("pro", { overrides: [{ ...raised, expiresAt: NOW }] });
    expect(after.rateLimits.tenant).toEqual(CATALOG.plans.pro.rateLimits.tenant);
  });

  it("gives the plan's defaults when nothing overrides them", () => {
    const pro = evaluate("pro");
    expect(pro).toEqual({
      plan: "pro",
      effectivePlan: "pro",
      access: "full",
      features: CATALOG.plans.pro.features,
      limits: CATALOG.plans.pro.limits,
      rateLimits: { ...PLATFORM_RATE_LIMITS, ...CATALOG.plans.pro.rateLimits },
      flags: {},
      overrides: [],
    });
    expect(pro.limits.seats).toEqual({ value: 10, hard: true });
    expect(pro.limits.events).toEqual({ value: 100_000, hard: false });
    expect(evaluate("enterprise").limits.seats).toEqual({ value: null, hard: true });
    // The result is the wire shape of GET /v1/entitlements.
    expect(EntitlementsSchema.parse(pro)).toEqual(pro);
  });

  it("applies active overrides on top of the plan, later ones winning", () => {
    const overrides: EntitlementOverride[] = [
      { type: "feature", key: "sso", value: true, reason: "pilot for deal #42" },
      { type: "feature", key: "api_access", value: false, reason: "abuse case 7" },
      { type: "limit", key: "seats", value: 25, reason: "deal #42", expiresAt: NOW + DAY },
      { type: "limit", key: "projects", value: null, reason: "migration from v1" },
      { type: "limit", key: "api_calls", value: 2_000_000, hard: true, reason: "cost cap" },
      { type: "limit", key: "seats", value: 30, reason: "deal #42, amended", expiresAt: null },
    ];
    const result = evaluate("pro", { overrides });
    expect(result.features).toEqual({
      ...CATALOG.plans.pro.features,
      sso: true,
      api_access: false,
    });
    expect(result.limits).toEqual({
      seats: { value: 30, hard: true },
      projects: { value: null, hard: true },
      api_calls: { value: 2_000_000, hard: true },
      events: { value: 100_000, hard: false },
    });
    expect(result.overrides).toEqual(overrides);
    // The catalog itself is never changed by an evaluation.
    expect(CATALOG.plans.pro.limits.seats).toEqual({ value: 10, hard: true });
    expect(CATALOG.plans.pro.features.sso).toBe(false);
  });

  it("ignores overrides from their expiry on", () => {
    const overrides: EntitlementOverride[] = [
      { type: "limit", key: "seats", value: 100, reason: "expired", expiresAt: NOW - 1 },
      { type: "limit", key: "projects", value: 100, reason: "expires now", expiresAt: NOW },
      { type: "feature", key: "sso", value: true, reason: "expires later", expiresAt: NOW + 1 },
    ];
    const result = evaluate("pro", { overrides });
    expect(result.limits.seats.value).toBe(10);
    expect(result.limits.projects.value).toBe(25);
    expect(result.features.sso).toBe(true);
    expect(result.overrides).toEqual([overrides[2]]);
    // The same overrides a moment later: the last one lapses too.
    const later = evaluateEntitlements({
      plan: "pro",
      overrides,
      tenantId: TENANT,
      now: NOW + 1,
      access: "full",
    });
    expect(later.features.sso).toBe(false);
    expect(later.overrides).toEqual([]);
  });

  it("falls back to the free plan's defaults under free_limits, keeping overrides", () => {
    const overrides: EntitlementOverride[] = [
      { type: "limit", key: "seats", value: 5, reason: "goodwill after cancellation" },
    ];
    const result = evaluate("business", { access: "free_limits", overrides });
    expect(result.plan).toBe("business");
    expect(result.effectivePlan).toBe("free");
    expect(result.access).toBe("free_limits");
    expect(result.features).toEqual(CATALOG.plans.free.features);
    expect(result.limits).toEqual({
      ...CATALOG.plans.free.limits,
      seats: { value: 5, hard: true },
    });
    // A business tenant that kept 40 members cannot add more, but loses nothing.
    expect(checkLimit(result, "seats", 40)).toMatchObject({
      allowed: false,
      reason: "limit_exceeded",
      limit: "seats",
      value: 5,
    });
  });

  it("keeps the plan under read_only but refuses any addition", () => {
    const result = evaluate("business", { access: "read_only" });
    expect(result.effectivePlan).toBe("business");
    expect(result.features.audit_export).toBe(true);
    expect(() => requireFeature(result, "audit_export")).not.toThrow();
    expect(checkLimit(result, "projects", 0, 1)).toEqual({
      allowed: false,
      reason: "read_only",
      limit: "projects",
      value: 200,
      hard: true,
      used: 0,
      requested: 1,
      remaining: 200,
    });
    // Soft and unlimited limits too: read-only means nothing is added.
    expect(checkLimit(result, "events", 0, 10)).toMatchObject({
      allowed: false,
      reason: "read_only",
    });
    // Removing is still allowed (a tenant can shrink to fit).
    expect(checkLimit(result, "seats", 12, -1)).toMatchObject({ allowed: true, overage: 0 });
  });

  it("evaluates flags with the tenant's flag overrides and its effective plan", () => {
    const flags: FlagDefinition[] = [
      { key: "new-editor", default: false, plans: { business: true } },
      { key: "fast-export", default: false },
      { key: "beta.search", default: true },
    ];
    const overrides: EntitlementOverride[] = [
      { type: "flag", key: "fast-export", value: true, reason: "asked for early access" },
      { type: "flag", key: "beta.search", value: false, reason: "bug 311", expiresAt: NOW - 1 },
    ];
    expect(evaluate("business", { flags, overrides }).flags).toEqual({
      "new-editor": true,
      "fast-export": true,
      "beta.search": true,
    });
    // Canceled: plan-gated flags follow what the tenant gets now, the free plan.
    expect(evaluate("business", { flags, overrides, access: "free_limits" }).flags).toEqual({
      "new-editor": false,
      "fast-export": true,
      "beta.search": true,
    });
  });

  it("validates stored overrides", () => {
    const valid = { type: "limit", key: "seats", value: 20, reason: "deal", expiresAt: NOW };
    expect(EntitlementOverrideSchema.parse(valid)).toEqual(valid);
    for (const invalid of [
      { ...valid, key: "storage" },
      { ...valid, value: -1 },
      { ...valid, value: 1.5 },
      { ...valid, reason: "  " },
      { type: "feature", key: "sso", value: 1, reason: "x" },
      { type: "feature", key: "teleport", value: true, reason: "x" },
      { type: "flag", key: "Bad Key", value: true, reason: "x" },
      { type: "plan", key: "pro", value: true, reason: "x" },
    ]) {
      expect(EntitlementOverrideSchema.safeParse(invalid).success, JSON.stringify(invalid)).toBe(
        false,
      );
    }
  });
});

describe("requireFeature", () => {
  it("passes entitled features and throws a typed error naming the feature otherwise", () => {
    const pro = evaluate("pro");
    expect(hasFeature(pro, "custom_domain")).toBe(true);
    expect(() => requireFeature(pro, "custom_domain")).not.toThrow();
    let error: unknown;
    try {
      requireFeature(pro, "sso");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FeatureNotEntitledError);
    expect(error).toMatchObject({
      name: "FeatureNotEntitledError",
      feature: "sso",
      plan: "pro",
      access: "full",
      message: 'The pro plan does not include the feature "sso".',
    });
  });
});

describe("checkLimit", () => {
  const pro = evaluate("pro");

  it("allows a hard limit up to its value and refuses past it, naming the limit", () => {
    expect(checkLimit(pro, "seats", 8)).toEqual({
      allowed: true,
      overage: 0,
      limit: "seats",
      value: 10,
      hard: true,
      used: 8,
      requested: 1,
      remaining: 2,
    });
    expect(checkLimit(pro, "seats", 9, 1)).toMatchObject({ allowed: true, remaining: 1 });
    expect(checkLimit(pro, "seats", 9, 2)).toEqual({
      allowed: false,
      reason: "limit_exceeded",
      limit: "seats",
      value: 10,
      hard: true,
      used: 9,
      requested: 2,
      remaining: 1,
    });
    expect(checkLimit(pro, "projects", 30)).toMatchObject({
      allowed: false,
      remaining: 0,
      limit: "projects",
    });
  });

  it("allows a soft limit past its value and reports the overage of this request", () => {
    expect(checkLimit(pro, "events", 99_000, 500)).toMatchObject({ allowed: true, overage: 0 });
    expect(checkLimit(pro, "events", 99_900, 500)).toMatchObject({
      allowed: true,
      overage: 400,
      remaining: 100,
    });
    expect(checkLimit(pro, "events", 150_000, 500)).toMatchObject({
      allowed: true,
      overage: 500,
      remaining: 0,
    });
  });

  it("never limits an unlimited value", () => {
    const enterprise = evaluate("enterprise");
    expect(checkLimit(enterprise, "seats", 1_000_000, 1_000)).toEqual({
      allowed: true,
      overage: 0,
      limit: "seats",
      value: null,
      hard: true,
      used: 1_000_000,
      requested: 1_000,
      remaining: null,
    });
  });
});

describe("accessForSubscription", () => {
  it("maps every Stripe subscription status", () => {
    const expected: Record<SubscriptionStatus, AccessState> = {
      active: "full",
      trialing: "full",
      past_due: "full", // within grace: it just started
      unpaid: "free_limits",
      canceled: "free_limits",
      incomplete: "free_limits",
      incomplete_expired: "free_limits",
      paused: "read_only",
    };
    for (const status of SUBSCRIPTION_STATUSES) {
      expect(accessForSubscription({ status, pastDueSince: NOW, now: NOW }).access, status).toBe(
        expected[status],
      );
    }
    expect(accessForSubscription({ status: null, pastDueSince: null, now: NOW })).toEqual({
      access: "free_limits",
      graceEndsAt: null,
    });
  });

  it("keeps a past_due tenant on its plan until the grace period ends, then read-only", () => {
    const since = NOW - 3 * DAY;
    expect(DEFAULT_GRACE_PERIOD_MS).toBe(7 * DAY);
    expect(accessForSubscription({ status: "past_due", pastDueSince: since, now: NOW })).toEqual({
      access: "full",
      graceEndsAt: since + 7 * DAY,
    });
    const end = since + 7 * DAY;
    expect(
      accessForSubscription({ status: "past_due", pastDueSince: since, now: end - 1 }).access,
    ).toBe("full");
    expect(accessForSubscription({ status: "past_due", pastDueSince: since, now: end })).toEqual({
      access: "read_only",
      graceEndsAt: null,
    });
    // Configurable grace.
    expect(
      accessForSubscription({
        status: "past_due",
        pastDueSince: since,
        now: NOW,
        gracePeriodMs: 2 * DAY,
      }).access,
    ).toBe("read_only");
    expect(
      accessForSubscription({ status: "past_due", pastDueSince: since, now: NOW, gracePeriodMs: 0 })
        .access,
    ).toBe("read_only");
    // Unknown start: the grace starts now.
    expect(accessForSubscription({ status: "past_due", pastDueSince: null, now: NOW })).toEqual({
      access: "full",
      graceEndsAt: NOW + 7 * DAY,
    });
  });

  it("covers exactly Stripe's statuses (checked by the compiler)", () => {
    // The SDK's union ends in `string & {}` for statuses added later; keep the literals only.
    type Known<T> = T extends string ? (string extends T ? never : T) : never;
    type Missing = Exclude<Known<Stripe.Subscription.Status>, SubscriptionStatus>;
    type Extra = Exclude<SubscriptionStatus, Known<Stripe.Subscription.Status>>;
    const exact: [Missing, Extra] extends [never, never] ? true : false = true;
    expect(exact).toBe(true);
    // At run time a status newer than the mapping is neither granted nor downgraded.
    const future = "suspended_by_bank" as SubscriptionStatus;
    expect(accessForSubscription({ status: future, pastDueSince: null, now: NOW })).toEqual({
      access: "read_only",
      graceEndsAt: null,
    });
  });
});
