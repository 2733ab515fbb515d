export * from "./api-keys";
export * from "./audit-log";
export * from "./invitations";
export * from "./members";
export * from "./projects";
export * from "./sessions";
export * from "./tasks";
