export * from "./catalog.js";
export * from "./entitlements.js";
export * from "./flags.js";
export * from "./periods.js";
export * from "./stripe-sync.js";
