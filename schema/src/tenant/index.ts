export * from "./api-keys";
export * from "./audit-log";
export * from "./audit-seals";
export * from "./invitations";
export * from "./members";
export * from "./notifications";
export * from "./product/index";
export * from "./sessions";
