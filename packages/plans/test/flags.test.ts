import { describe, expect, it } from "vitest";
import {
  evaluateFlag,
  evaluateFlags,
  type FlagDefinition,
  FlagDefinitionSchema,
  fnv1a32,
  inRollout,
  rolloutBucket,
} from "../src/index";

/** 10,000 tenant ids shaped like the platform's (`ten_` + time + random), deterministic. */
const TENANT_IDS = Array.from({ length: 10_000 }, (_, i) => {
  const time = (1_767_225_600_000 + i * 7_919).toString(32).toUpperCase().padStart(10, "0");
  const random = Math.imul(i + 1, 2_654_435_761)
    .toString(32)
    .toUpperCase()
    .padStart(16, "0");
  return `ten_${time}${random}`;
});
/** The worst case for a weak hash: ids that differ only in their last characters. */
const SEQUENTIAL_IDS = Array.from({ length: 10_000 }, (_, i) => `tenant-${i}`);

describe("stable hash", () => {
  it("is FNV-1a 32-bit over UTF-8 (published test vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    // UTF-8, not UTF-16 code units: "é" is the two bytes c3 a9.
    expect(fnv1a32("é")).toBe(
      Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0,
    );
  });

  it("gives the same bucket for the same flag and tenant, in any runtime and release", () => {
    // Pinned values (cross-checked with an independent Python implementation): if these change,
    // every percentage rollout reshuffles its tenants.
    expect(
      ["new-editor", "fast-export", "beta.search"].map((flag) => rolloutBucket(flag, "ten_acme")),
    ).toEqual([8629, 2409, 181]);
    for (const id of TENANT_IDS.slice(0, 100)) {
      const bucket = rolloutBucket("new-editor", id);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(10_000);
      expect(Number.isInteger(bucket)).toBe(true);
      expect(rolloutBucket("new-editor", id)).toBe(bucket);
    }
  });

  it.each([1, 5, 10, 25, 50, 75, 90, 99])("enables about %d%% of 10,000 tenants", (percentage) => {
    for (const ids of [TENANT_IDS, SEQUENTIAL_IDS]) {
      const enabled = ids.filter((id) => inRollout("new-editor", id, percentage)).length;
      // Binomial sd at 50 % over 10,000 draws is 0.5 points; allow 3 sd.
      expect(Math.abs(enabled / 100 - percentage)).toBeLessThan(1.5);
    }
  });

  it("spreads tenants evenly over the buckets", () => {
    const deciles = new Array<number>(10).fill(0);
    for (const id of SEQUENTIAL_IDS) {
      const decile = Math.floor(rolloutBucket("fast-export", id) / 1_000);
      deciles[decile] = (deciles[decile] ?? 0) + 1;
    }
    for (const count of deciles) expect(Math.abs(count - 1_000)).toBeLessThan(120);
  });

  it("only adds tenants when a percentage grows, and gives each flag its own cohort", () => {
    const at10 = TENANT_IDS.filter((id) => inRollout("new-editor", id, 10));
    const at20 = new Set(TENANT_IDS.filter((id) => inRollout("new-editor", id, 20)));
    expect(at10.every((id) => at20.has(id))).toBe(true);
    expect(TENANT_IDS.filter((id) => inRollout("new-editor", id, 0))).toHaveLength(0);
    expect(TENANT_IDS.filter((id) => inRollout("new-editor", id, 100))).toHaveLength(10_000);
    // Two independent 50 % flags overlap on about 25 % of tenants, not 50 %.
    const both = TENANT_IDS.filter(
      (id) => inRollout("new-editor", id, 50) && inRollout("fast-export", id, 50),
    ).length;
    expect(Math.abs(both / 100 - 25)).toBeLessThan(1.5);
  });
});

describe("flag evaluation", () => {
  const flag: FlagDefinition = {
    key: "new-editor",
    default: false,
    plans: { enterprise: true, free: false },
    percentage: 50,
  };
  const inCohort = TENANT_IDS.find((id) => inRollout(flag.key, id, 50))!;
  const outOfCohort = TENANT_IDS.find((id) => !inRollout(flag.key, id, 50))!;

  it("applies tenant override > plan > percentage > default", () => {
    // Tenant override beats the plan, in both directions.
    expect(evaluateFlag(flag, { tenantId: inCohort, plan: "free", override: true })).toEqual({
      key: "new-editor",
      enabled: true,
      source: "tenant",
    });
    expect(
      evaluateFlag(flag, { tenantId: inCohort, plan: "enterprise", override: false }),
    ).toMatchObject({ enabled: false, source: "tenant" });
    // The plan beats the percentage.
    expect(evaluateFlag(flag, { tenantId: outOfCohort, plan: "enterprise" })).toMatchObject({
      enabled: true,
      source: "plan",
    });
    expect(evaluateFlag(flag, { tenantId: inCohort, plan: "free" })).toMatchObject({
      enabled: false,
      source: "plan",
    });
    // Plans not named fall through to the percentage.
    expect(evaluateFlag(flag, { tenantId: inCohort, plan: "pro" })).toMatchObject({
      enabled: true,
      source: "percentage",
    });
    expect(evaluateFlag(flag, { tenantId: outOfCohort, plan: "pro" })).toMatchObject({
      enabled: false,
      source: "percentage",
    });
    // Nothing else applies: the default.
    const plain: FlagDefinition = { key: "plain", default: true };
    expect(evaluateFlag(plain, { tenantId: outOfCohort, plan: "pro" })).toMatchObject({
      enabled: true,
      source: "default",
    });
  });

  it("evaluates a list of flags for one tenant", () => {
    const flags: FlagDefinition[] = [
      flag,
      { key: "plain", default: true },
      { key: "constructor", default: false },
    ];
    expect(
      evaluateFlags(flags, { tenantId: outOfCohort, plan: "pro", overrides: { plain: false } }),
    ).toEqual({ "new-editor": false, plain: false, constructor: false });
    expect(evaluateFlags(flags, { tenantId: inCohort, plan: "business" })).toEqual({
      "new-editor": true,
      plain: true,
      constructor: false,
    });
  });

  it("validates definitions", () => {
    expect(FlagDefinitionSchema.parse(flag)).toEqual(flag);
    expect(FlagDefinitionSchema.safeParse({ ...flag, key: "New Editor" }).success).toBe(false);
    expect(FlagDefinitionSchema.safeParse({ ...flag, percentage: 101 }).success).toBe(false);
    expect(FlagDefinitionSchema.safeParse({ ...flag, plans: { gold: true } }).success).toBe(false);
  });
});
