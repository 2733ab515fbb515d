import { newNonce } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { createContext } from "react-router";
import type { Operator } from "./context";
import type { AdminEnv } from "./env";

/** What the worker entry hands every loader and action (React Router's context). */
export interface AdminRequest {
  env: AdminEnv;
  waitUntil: (promise: Promise<unknown>) => void;
  requestId: string;
  ip: string | null;
  /** The CSP nonce of this page: only scripts carrying it run. */
  nonce: string;
  /** Behind Cloudflare Access: the operator its JWT names, and a CSRF token derived from it. */
  access?: { operator: Operator; csrfToken: string };
}

export const adminRequest = createContext<AdminRequest>();

export function newAdminRequest(
  request: Request,
  env: AdminEnv,
  ctx: ExecutionContext,
): AdminRequest {
  const nonce = newNonce();
  return {
    env,
    waitUntil: (p) => ctx.waitUntil(p),
    requestId: newId("request"),
    ip: request.headers.get("cf-connecting-ip"),
    nonce,
  };
}
