import type { Entitlements, LimitKey } from "@tenantry/plans";
import type { UsageNoticeSink } from "./thresholds";

// What the meter reads from outside its own storage, given to it where the Durable Object is
// constructed (`../meter-sources.ts` builds them from the worker's bindings). The meter itself
// imports no service, so it can be tested and reused without the control plane's code.

/** The limits that apply, and the anchor of the tenant's usage periods. */
export interface MeterEntitlements {
  value: Entitlements;
  /** The current period end of a live subscription; null: calendar months. */
  anchor: number | null;
}

export interface EntitlementsSource {
  /** The tenant's entitlements as of `now` (plan, billing state, overrides, flags). */
  read(tenantId: string, now: number): Promise<MeterEntitlements>;
}

export interface GaugeSource {
  /**
   * How many units of a gauge (seats, the product's) the tenant's database holds now; null when
   * no table counts it (a catalog limit the product does not use), and the meter's total stands.
   */
  count(tenantId: string, metric: LimitKey): Promise<number | null>;
}

export interface MeterSources {
  entitlements: EntitlementsSource;
  gauges: GaugeSource;
  notices: UsageNoticeSink;
}
