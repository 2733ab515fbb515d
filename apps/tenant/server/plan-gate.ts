import type { TenantryClient } from "@tenantry/client";
import { CATALOG, type Feature, PLAN_IDS } from "@tenantry/plans";

/** Whether the tenant's plan includes a feature, and if not, the plans that would. */
export interface FeatureGate {
  feature: Feature;
  included: boolean;
  /** Names of the catalog's plans that include the feature, cheapest first. */
  unlockedBy: string[];
}

/**
 * Reads `GET /v1/entitlements` (plan ⊕ overrides ⊕ flags, as the API enforces them) for the
 * features a page gates. Resolved on the server so the catalog never ships to the browser.
 */
export async function featureGates<F extends Feature>(
  api: TenantryClient,
  features: F[],
): Promise<
  { gates: Record<F, FeatureGate> } | { failed: { error?: unknown; response: Response } }
> {
  const result = await api.GET("/v1/entitlements");
  if (!result.data) return { failed: result };
  const granted = result.data.features;
  const gate = (feature: F): FeatureGate => ({
    feature,
    included: granted[feature] === true,
    unlockedBy: PLAN_IDS.filter((id) => CATALOG.plans[id].features[feature]).map(
      (id) => CATALOG.plans[id].name,
    ),
  });
  return { gates: Object.fromEntries(features.map((f) => [f, gate(f)])) as Record<F, FeatureGate> };
}
