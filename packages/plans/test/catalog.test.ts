import { describe, expect, it } from "vitest";
import {
  billableUsage,
  CATALOG,
  type Catalog,
  CatalogSchema,
  FEATURES,
  INTERVALS,
  LIMITS,
  METERED_METRICS,
  meteredPriceLookupKey,
  meteredUnitAmountDecimal,
  PLAN_IDS,
  parseLookupKey,
  priceLookupKey,
} from "../src/index";

/** A deep copy of the catalog with one change, for the validation tests. */
function variant(change: (catalog: Catalog) => void): unknown {
  const copy = structuredClone(CATALOG);
  change(copy);
  return copy;
}

function issuesOf(input: unknown): string[] {
  const result = CatalogSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("catalog", () => {
  it("is valid and complete (it was parsed when the module loaded)", () => {
    expect(CatalogSchema.parse(CATALOG)).toEqual(CATALOG);
    expect(Object.keys(CATALOG.plans)).toEqual([...PLAN_IDS]);
    for (const id of PLAN_IDS) {
      const plan = CATALOG.plans[id];
      expect(plan.id).toBe(id);
      expect(Object.keys(plan.features).sort()).toEqual([...FEATURES].sort());
      expect(Object.keys(plan.limits).sort()).toEqual([...LIMITS].sort());
    }
    expect(CATALOG.plans.free.prices).toBeNull();
    expect(CATALOG.plans.pro.prices).toEqual({ month: 2_900, year: 29_000 });
    expect(CATALOG.plans.enterprise.contactSales).toBe(true);
    expect(CATALOG.meters.events.eventName).toBe("tenantry_events");
  });

  it("bills events above the included amount on every paid plan, and nowhere else", () => {
    expect(CATALOG.plans.free.metered).toEqual({});
    expect(CATALOG.plans.free.limits.events).toEqual({ value: 10_000, hard: true });
    for (const id of ["pro", "business", "enterprise"] as const) {
      const plan = CATALOG.plans[id];
      expect(plan.metered.events?.per).toBe(1_000);
      expect(plan.limits.events.hard).toBe(false);
      expect(plan.limits.events.value).toBeGreaterThan(0);
    }
  });

  it("orders plans: each one offers at least what the one below it does", () => {
    const atLeast = (a: number | null, b: number | null) => a === null || (b !== null && a >= b);
    for (let i = 1; i < PLAN_IDS.length; i++) {
      const lower = CATALOG.plans[PLAN_IDS[i - 1]!];
      const higher = CATALOG.plans[PLAN_IDS[i]!];
      for (const feature of FEATURES) {
        if (lower.features[feature]) expect(higher.features[feature], feature).toBe(true);
      }
      for (const limit of LIMITS) {
        const ok = atLeast(higher.limits[limit].value, lower.limits[limit].value);
        expect(ok, `${higher.id}.${limit}`).toBe(true);
      }
      for (const scope of ["tenant", "apiKey", "expensive"] as const) {
        expect(higher.rateLimits[scope].perSecond).toBeGreaterThanOrEqual(
          lower.rateLimits[scope].perSecond,
        );
        expect(higher.rateLimits[scope].perMinute).toBeGreaterThanOrEqual(
          lower.rateLimits[scope].perMinute,
        );
      }
    }
  });

  const broken: [string, (catalog: Catalog) => void, string[]][] = [
    [
      "a priced free plan",
      (c) => {
        c.plans.free.prices = { month: 1, year: 1 };
      },
      ["plans.free.prices: free has no price"],
    ],
    [
      "a paid plan without prices",
      (c) => {
        c.plans.pro.prices = null;
      },
      [
        "plans.pro.prices: a paid plan needs monthly and yearly prices",
        "plans.pro.metered.events: metered usage needs a subscription to bill",
      ],
    ],
    [
      "a metered metric with a hard limit",
      (c) => {
        c.plans.pro.limits.events.hard = true;
      },
      ["plans.pro.limits.events: a metered metric needs a finite, soft limit"],
    ],
    [
      "a metered metric without an included amount",
      (c) => {
        c.plans.pro.limits.events.value = null;
      },
      ["plans.pro.limits.events: a metered metric needs a finite, soft limit"],
    ],
    [
      "a plan stored under another id",
      (c) => {
        c.plans.business.id = "pro";
      },
      ["plans.business.id: plan stored under business says pro"],
    ],
    [
      "a yearly price above twelve months",
      (c) => {
        c.plans.pro.prices = { month: 100, year: 1_300 };
      },
      ["plans.pro.prices: a yearly price above twelve monthly prices is a mistake"],
    ],
    [
      "a metered price per 250 units",
      (c) => {
        c.plans.pro.metered.events = { amount: 1, per: 250 };
      },
      [
        "plans.pro.metered.events.per: per must be a power of ten, so amount / per is an exact decimal",
      ],
    ],
    [
      "an API key budget above its tenant's",
      (c) => {
        c.plans.pro.rateLimits.apiKey.perSecond = 1_000;
      },
      ["plans.pro.rateLimits: one API key cannot have a larger budget than its whole tenant"],
    ],
    [
      "a per-minute rate that can never bind",
      (c) => {
        c.plans.pro.rateLimits.tenant.perMinute = 100_000;
      },
      ["plans.pro.rateLimits.tenant: perMinute above 60 × perSecond would never bind"],
    ],
    [
      "a missing feature",
      (c) => {
        const features: Record<string, boolean> = c.plans.pro.features;
        delete features.sso;
      },
      ["plans.pro.features.sso: Invalid input: expected boolean, received undefined"],
    ],
    [
      "a negative limit",
      (c) => {
        c.plans.pro.limits.seats.value = -1;
      },
      ["plans.pro.limits.seats.value: Too small: expected number to be >=0"],
    ],
  ];

  it.each(broken)("rejects %s", (_, change, issues) => {
    expect(issuesOf(variant(change))).toEqual(issues);
  });
});

describe("lookup keys", () => {
  it("names licensed prices <plan>_<interval> and metered prices <plan>_<metric>_<interval>", () => {
    expect(priceLookupKey("pro", "month")).toBe("pro_month");
    expect(priceLookupKey("enterprise", "year")).toBe("enterprise_year");
    expect(meteredPriceLookupKey("pro", "events", "month")).toBe("pro_events_month");
  });

  it("parses every key the catalog uses back to its plan, and nothing else", () => {
    for (const plan of PLAN_IDS) {
      for (const interval of INTERVALS) {
        expect(parseLookupKey(priceLookupKey(plan, interval))).toEqual({
          kind: "licensed",
          plan,
          interval,
        });
        for (const metric of METERED_METRICS) {
          expect(parseLookupKey(meteredPriceLookupKey(plan, metric, interval))).toEqual({
            kind: "metered",
            plan,
            metric,
            interval,
          });
        }
      }
    }
    for (const foreign of ["pro", "gold_month", "pro_week", "pro_seats_month", "pro__month", ""]) {
      expect(parseLookupKey(foreign), foreign).toBeNull();
    }
  });
});

describe("metered pricing", () => {
  it("turns cents per 1,000 into an exact per-unit decimal for Stripe", () => {
    expect(meteredUnitAmountDecimal({ amount: 100, per: 1_000 })).toBe("0.1");
    expect(meteredUnitAmountDecimal({ amount: 25, per: 1_000 })).toBe("0.025");
    expect(meteredUnitAmountDecimal({ amount: 1_000, per: 1_000 })).toBe("1");
    expect(meteredUnitAmountDecimal({ amount: 1_234, per: 10 })).toBe("123.4");
    expect(meteredUnitAmountDecimal({ amount: 5, per: 1 })).toBe("5");
    expect(meteredUnitAmountDecimal({ amount: 1, per: 1_000_000 })).toBe("0.000001");
  });

  it("bills only usage above the included amount, whatever the deltas", () => {
    expect(billableUsage(100, 0, 50)).toBe(0);
    expect(billableUsage(100, 90, 110)).toBe(10);
    expect(billableUsage(100, 110, 150)).toBe(40);
    expect(billableUsage(100, 100, 100)).toBe(0);
    expect(billableUsage(null, 0, 1_000_000)).toBe(0);
    // However a period's usage is split into deltas, the billed units sum to used − included.
    const steps = [0, 30, 99, 100, 101, 180, 180, 260];
    let billed = 0;
    for (let i = 1; i < steps.length; i++) billed += billableUsage(100, steps[i - 1]!, steps[i]!);
    expect(billed).toBe(160);
  });
});
