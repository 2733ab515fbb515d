export * from "./catalog";
export * from "./entitlements";
export * from "./flags";
export * from "./stripe-sync";
