import type { EntitlementsSource, MeterEntitlements } from "./sources";

/** Entitlements are re-read at least this often, besides `refresh()` after every change. */
const ENTITLEMENTS_TTL_MS = 60_000;

/**
 * The tenant's entitlements, cached in the meter: re-read when told (`forget`), at the next
 * override expiry, and at least every minute.
 */
export class EntitlementsCache {
  private cached: (MeterEntitlements & { until: number }) | null = null;

  constructor(private readonly source: EntitlementsSource) {}

  /** The cached value while it holds, without an await (the lease path), else null. */
  fresh(now: number): MeterEntitlements | null {
    const cached = this.cached;
    return cached && now < cached.until ? cached : null;
  }

  async load(tenantId: string): Promise<MeterEntitlements> {
    const now = Date.now();
    if (this.cached && now < this.cached.until) return this.cached;
    const { value, anchor } = await this.source.read(tenantId, now);
    const expiries = value.overrides
      .map((o) => o.expiresAt)
      .filter((t): t is number => typeof t === "number" && t > now);
    this.cached = { value, anchor, until: Math.min(now + ENTITLEMENTS_TTL_MS, ...expiries) };
    return this.cached;
  }

  forget(): void {
    this.cached = null;
  }
}
