import { z } from "zod";

// The plan catalog is the one source of truth for what each plan sells and allows. Entitlement
// evaluation, quota enforcement, rate limits, metering and `npm run stripe:sync` all read it; no
// other module hard-codes a plan's price, feature or limit.

export const PLAN_IDS = ["free", "pro", "business", "enterprise"] as const;
export const PlanIdSchema = z.enum(PLAN_IDS);
export type PlanId = z.infer<typeof PlanIdSchema>;

export const FEATURES = [
  "api_access",
  "audit_export",
  "custom_domain",
  "custom_roles",
  "priority_support",
  "sso",
] as const;
export const FeatureSchema = z.enum(FEATURES);
export type Feature = z.infer<typeof FeatureSchema>;

export const LIMITS = ["seats", "projects", "api_calls", "events"] as const;
export const LimitKeySchema = z.enum(LIMITS);
export type LimitKey = z.infer<typeof LimitKeySchema>;

export const INTERVALS = ["month", "year"] as const;
export const IntervalSchema = z.enum(INTERVALS);
export type Interval = z.infer<typeof IntervalSchema>;

/**
 * Custom metrics a product reports through `POST /v1/usage/events` (counters; `api_calls` is
 * counted by the platform itself).
 */
export const USAGE_METRICS = ["events"] as const satisfies readonly LimitKey[];
export type UsageMetric = (typeof USAGE_METRICS)[number];

export function isUsageMetric(value: string): value is UsageMetric {
  return (USAGE_METRICS as readonly string[]).includes(value);
}

/** Limits that are also billed by usage above the included amount (a Stripe meter each). */
export const METERED_METRICS = ["events"] as const satisfies readonly LimitKey[];
export const MeteredMetricSchema = z.enum(METERED_METRICS);
export type MeteredMetric = z.infer<typeof MeteredMetricSchema>;

export function isMeteredMetric(value: string): value is MeteredMetric {
  return (METERED_METRICS as readonly string[]).includes(value);
}

export interface LimitDefinition {
  /** `gauge`: a current total (rows that exist); `counter`: consumption that resets each period. */
  kind: "gauge" | "counter";
  /** Counters reset monthly, aligned to the billing anchor when there is one (issue 4). */
  period: "month" | null;
  description: string;
}

/** How each limit is counted; the meter and the docs read this instead of guessing from names. */
export const LIMIT_DEFINITIONS: Readonly<Record<LimitKey, LimitDefinition>> = {
  seats: { kind: "gauge", period: null, description: "members of the tenant" },
  projects: { kind: "gauge", period: null, description: "projects of the example product" },
  api_calls: { kind: "counter", period: "month", description: "authenticated API requests" },
  events: { kind: "counter", period: "month", description: "usage events ingested" },
};

const CentsSchema = z.number().int().positive();

export const LimitSchema = z.object({
  /** `null` = unlimited. */
  value: z.number().int().nonnegative().nullable(),
  /** Hard limits refuse past the value; soft limits allow and record the overage. */
  hard: z.boolean(),
});
export type Limit = z.infer<typeof LimitSchema>;

export const RateLimitSchema = z
  .object({ perSecond: z.number().int().positive(), perMinute: z.number().int().positive() })
  .refine((r) => r.perMinute <= r.perSecond * 60, {
    message: "perMinute above 60 × perSecond would never bind",
  });
export type RateLimit = z.infer<typeof RateLimitSchema>;

/**
 * Request budgets for the noisy-neighbour limits (issue 4): per tenant, per API key, and a
 * separate smaller budget for expensive routes (exports, reports, bulk ingestion).
 */
export const RateLimitsSchema = z
  .object({ tenant: RateLimitSchema, apiKey: RateLimitSchema, expensive: RateLimitSchema })
  .refine(
    (r) => r.apiKey.perSecond <= r.tenant.perSecond && r.apiKey.perMinute <= r.tenant.perMinute,
    { message: "one API key cannot have a larger budget than its whole tenant" },
  );
export type RateLimits = z.infer<typeof RateLimitsSchema>;

const isPowerOfTen = (n: number) => /^10*$/.test(String(n));

/**
 * Usage billed above the plan's included amount (the limit's value): `amount` cents per `per`
 * units. Stripe gets a per-unit metered price of `amount / per` cents (`unit_amount_decimal`);
 * see `meteredUnitAmountDecimal` for why not `transform_quantity` or tiers.
 */
export const MeteredPriceSchema = z.object({
  amount: CentsSchema,
  per: z.number().int().positive().refine(isPowerOfTen, {
    message: "per must be a power of ten, so amount / per is an exact decimal",
  }),
});
export type MeteredPrice = z.infer<typeof MeteredPriceSchema>;

/** Licensed prices in cents; `null` for a plan that is not sold (`free`). */
export const PlanPricesSchema = z
  .object({ month: CentsSchema, year: CentsSchema })
  .refine((p) => p.year <= p.month * 12, {
    message: "a yearly price above twelve monthly prices is a mistake",
  });
export type PlanPrices = z.infer<typeof PlanPricesSchema>;

export const PlanSchema = z.object({
  id: PlanIdSchema,
  name: z.string().min(1),
  description: z.string().min(1),
  /** Sold by sales: prices exist in Stripe (for invoices and quotes), but not in self-serve checkout. */
  contactSales: z.boolean(),
  prices: PlanPricesSchema.nullable(),
  features: z.record(FeatureSchema, z.boolean()),
  limits: z.record(LimitKeySchema, LimitSchema),
  rateLimits: RateLimitsSchema,
  metered: z.partialRecord(MeteredMetricSchema, MeteredPriceSchema),
});
export type Plan = z.infer<typeof PlanSchema>;

export const MeterSchema = z.object({
  /** Stripe meter `event_name`; meter events carry it and the sync finds the meter by it. */
  eventName: z.string().regex(/^[a-z][a-z0-9_]*$/),
  displayName: z.string().min(1),
  formula: z.enum(["sum", "count", "last"]),
  /** Meter event payload key that carries the value (`value` is Stripe's default). */
  valueKey: z.string().min(1),
});
export type Meter = z.infer<typeof MeterSchema>;

export const CatalogSchema = z
  .object({
    currency: z.literal("usd"),
    meters: z.record(MeteredMetricSchema, MeterSchema),
    plans: z.record(PlanIdSchema, PlanSchema),
  })
  .superRefine((catalog, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    for (const id of PLAN_IDS) {
      const plan = catalog.plans[id];
      if (plan.id !== id) issue(["plans", id, "id"], `plan stored under ${id} says ${plan.id}`);
      if (id === "free") {
        if (plan.prices !== null) issue(["plans", id, "prices"], "free has no price");
        if (plan.contactSales) issue(["plans", id, "contactSales"], "free is self-serve");
      } else if (plan.prices === null) {
        issue(["plans", id, "prices"], "a paid plan needs monthly and yearly prices");
      }
      for (const metric of METERED_METRICS) {
        if (!plan.metered[metric]) continue;
        const limit = plan.limits[metric];
        // Only usage above the included amount is billed: that needs an amount to be above, and
        // a soft limit that lets usage go there.
        if (limit.value === null || limit.hard) {
          issue(["plans", id, "limits", metric], "a metered metric needs a finite, soft limit");
        }
        if (plan.prices === null) {
          issue(["plans", id, "metered", metric], "metered usage needs a subscription to bill");
        }
      }
    }
    const eventNames = METERED_METRICS.map((m) => catalog.meters[m].eventName);
    if (new Set(eventNames).size !== eventNames.length) {
      issue(["meters"], "every meter needs its own event_name");
    }
  });
export type Catalog = z.infer<typeof CatalogSchema>;

const CATALOG_INPUT = {
  currency: "usd",
  meters: {
    // Prefixed: event names are per Stripe account, which may serve other products too.
    events: {
      eventName: "tenantry_events",
      displayName: "Events",
      formula: "sum",
      valueKey: "value",
    },
  },
  plans: {
    free: {
      id: "free",
      name: "Free",
      description: "For trying the product with a small team.",
      contactSales: false,
      prices: null,
      features: {
        // Every tenant gets API keys from the platform core; the flag exists so an override can
        // switch API access off for one tenant.
        api_access: true,
        audit_export: false,
        custom_domain: false,
        custom_roles: false,
        priority_support: false,
        sso: false,
      },
      // Hard everywhere: there is no subscription that could pay for overage.
      limits: {
        seats: { value: 3, hard: true },
        projects: { value: 3, hard: true },
        api_calls: { value: 10_000, hard: true },
        events: { value: 10_000, hard: true },
      },
      rateLimits: {
        tenant: { perSecond: 10, perMinute: 300 },
        apiKey: { perSecond: 5, perMinute: 150 },
        expensive: { perSecond: 1, perMinute: 10 },
      },
      metered: {},
    },
    pro: {
      id: "pro",
      name: "Pro",
      description: "For growing teams that need more room and their own domain.",
      contactSales: false,
      prices: { month: 2_900, year: 29_000 },
      features: {
        api_access: true,
        audit_export: false,
        custom_domain: true,
        custom_roles: false,
        priority_support: false,
        sso: false,
      },
      // Paid usage counters are soft: a paying customer's production traffic is not cut off at
      // the quota; the overage is recorded (api_calls) or billed (events).
      limits: {
        seats: { value: 10, hard: true },
        projects: { value: 25, hard: true },
        api_calls: { value: 1_000_000, hard: false },
        events: { value: 100_000, hard: false },
      },
      rateLimits: {
        tenant: { perSecond: 50, perMinute: 2_000 },
        apiKey: { perSecond: 25, perMinute: 1_000 },
        expensive: { perSecond: 2, perMinute: 30 },
      },
      metered: { events: { amount: 100, per: 1_000 } },
    },
    business: {
      id: "business",
      name: "Business",
      description: "For organisations that need roles, audit exports and priority support.",
      contactSales: false,
      prices: { month: 9_900, year: 99_000 },
      features: {
        api_access: true,
        audit_export: true,
        custom_domain: true,
        custom_roles: true,
        priority_support: true,
        sso: false,
      },
      limits: {
        seats: { value: 50, hard: true },
        projects: { value: 200, hard: true },
        api_calls: { value: 10_000_000, hard: false },
        events: { value: 1_000_000, hard: false },
      },
      rateLimits: {
        tenant: { perSecond: 200, perMinute: 10_000 },
        apiKey: { perSecond: 100, perMinute: 5_000 },
        expensive: { perSecond: 5, perMinute: 120 },
      },
      metered: { events: { amount: 50, per: 1_000 } },
    },
    enterprise: {
      id: "enterprise",
      name: "Enterprise",
      description: "SSO, unlimited seats and projects, and terms agreed with sales.",
      contactSales: true,
      // List prices: sales quotes and invoices use them; self-serve checkout refuses the plan.
      prices: { month: 49_900, year: 499_000 },
      features: {
        api_access: true,
        audit_export: true,
        custom_domain: true,
        custom_roles: true,
        priority_support: true,
        sso: true,
      },
      limits: {
        seats: { value: null, hard: true },
        projects: { value: null, hard: true },
        api_calls: { value: null, hard: false },
        events: { value: 10_000_000, hard: false },
      },
      rateLimits: {
        tenant: { perSecond: 1_000, perMinute: 50_000 },
        apiKey: { perSecond: 500, perMinute: 25_000 },
        expensive: { perSecond: 20, perMinute: 600 },
      },
      metered: { events: { amount: 25, per: 1_000 } },
    },
  },
} satisfies z.input<typeof CatalogSchema>;

/** The catalog, validated when this module loads: a broken catalog fails at startup, not in billing. */
export const CATALOG: Catalog = CatalogSchema.parse(CATALOG_INPUT);

export function isPlanId(value: unknown): value is PlanId {
  return PlanIdSchema.safeParse(value).success;
}

// Lookup keys. Licensed prices: `<plan>_<interval>` (`pro_month`, `pro_year`). Metered prices:
// `<plan>_<metric>_<interval>` (`pro_events_month`, `pro_events_year`); a yearly plan carries a
// yearly metered price because every item of a Stripe subscription shares one billing interval.

export function priceLookupKey(plan: PlanId, interval: Interval): string {
  return `${plan}_${interval}`;
}

export function meteredPriceLookupKey(
  plan: PlanId,
  metric: MeteredMetric,
  interval: Interval,
): string {
  return `${plan}_${metric}_${interval}`;
}

export type ParsedLookupKey =
  | { kind: "licensed"; plan: PlanId; interval: Interval }
  | { kind: "metered"; plan: PlanId; metric: MeteredMetric; interval: Interval };

/** The plan (and metric) a Stripe price's lookup key names, or null for keys we do not own. */
export function parseLookupKey(key: string): ParsedLookupKey | null {
  const first = key.indexOf("_");
  const last = key.lastIndexOf("_");
  if (first < 0) return null;
  const plan = PlanIdSchema.safeParse(key.slice(0, first));
  const interval = IntervalSchema.safeParse(key.slice(last + 1));
  if (!plan.success || !interval.success) return null;
  if (first === last) return { kind: "licensed", plan: plan.data, interval: interval.data };
  const metric = MeteredMetricSchema.safeParse(key.slice(first + 1, last));
  if (!metric.success) return null;
  return { kind: "metered", plan: plan.data, metric: metric.data, interval: interval.data };
}

/**
 * The Stripe `unit_amount_decimal` (cents per unit) of a metered price, exact: `amount / per`
 * with `per` a power of ten, e.g. 100 cents per 1,000 events → "0.1".
 *
 * Why per-unit with a decimal amount: Stripe's alternatives are `transform_quantity`
 * (divide_by 1000, rounding up to whole thousands) and graduated tiers (a free first tier for
 * the included amount). The Stripe emulator implements neither, and a shared tiered price could
 * not follow per-tenant overrides of the included amount anyway. So the platform reports only
 * billable usage (see `billableUsage`) and Stripe multiplies it by the per-unit amount; usage is
 * billed pro rata per event instead of per started 1,000.
 */
export function meteredUnitAmountDecimal(price: MeteredPrice): string {
  const digits = String(price.per).length - 1;
  const padded = String(price.amount).padStart(digits + 1, "0");
  const whole = padded.slice(0, padded.length - digits);
  const fraction = padded.slice(padded.length - digits).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/**
 * Units of a metered metric to report to Stripe when usage moves from `usedBefore` to
 * `usedAfter` within one period: only what lies above the included amount, so the meter events
 * of a period sum to max(0, used − included). `included` is the tenant's evaluated limit (plan
 * plus overrides); `null` (unlimited) bills nothing.
 */
export function billableUsage(
  included: number | null,
  usedBefore: number,
  usedAfter: number,
): number {
  if (included === null) return 0;
  return Math.max(0, usedAfter - included) - Math.max(0, usedBefore - included);
}
