export * from "./auth-throttle";
export * from "./auth-tokens";
export * from "./entitlement-overrides";
export * from "./mail-outbox";
export * from "./subscriptions";
export * from "./tenant-databases";
export * from "./tenants";
export * from "./users";
