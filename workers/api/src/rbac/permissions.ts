// The matrix lives in @tenantry/core so the tenant app shows what a role cannot do by the same rules.
export * from "@tenantry/core/permissions";
