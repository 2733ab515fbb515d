import type { OperatorRole } from "@tenantry/schema/control";
import type { AdminEnv } from "./env";

/** The signed-in operator, however they proved it (Access, session cookie, API token). */
export interface Operator {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  /** How this request is authenticated: an API token carries its own, possibly lower, role. */
  via: { type: "access" | "session" | "token"; id: string };
}

/** What every admin verb receives (the admin twin of ADR 009's contexts). */
export interface AdminRequestContext {
  env: AdminEnv;
  requestId: string;
  ip: string | null;
}

export interface OperatorContext extends AdminRequestContext {
  operator: Operator;
}
