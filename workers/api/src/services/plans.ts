import { CATALOG, FEATURES, LIMIT_DEFINITIONS, LIMITS, PLAN_IDS } from "@tenantry/plans";

/**
 * The plan catalog as the API publishes it (the billing page's comparison): what each plan
 * costs, allows and includes. Read from `@tenantry/plans`, so it cannot drift from enforcement.
 */
export function listPlans() {
  return {
    currency: CATALOG.currency,
    data: PLAN_IDS.map((id) => {
      const plan = CATALOG.plans[id];
      return {
        id,
        name: plan.name,
        description: plan.description,
        contact_sales: plan.contactSales,
        prices: plan.prices,
        features: FEATURES.filter((f) => plan.features[f]),
        limits: LIMITS.map((key) => ({
          key,
          description: LIMIT_DEFINITIONS[key].description,
          period: LIMIT_DEFINITIONS[key].period,
          value: plan.limits[key].value,
          hard: plan.limits[key].hard,
        })),
      };
    }),
  };
}
