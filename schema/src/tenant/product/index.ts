// EXAMPLE PRODUCT: the product's tables, in each tenant's own database. A fork replaces this
// folder; `../index.ts` re-exports it, so migrations and `@tenantry/schema/tenant` include it.
export * from "./ids";
export * from "./projects";
export * from "./tasks";
