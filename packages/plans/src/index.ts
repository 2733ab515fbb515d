export * from "./catalog";
export * from "./entitlements";
export * from "./flags";
export * from "./periods";
export * from "./stripe-sync";
