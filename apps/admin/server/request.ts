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
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  return {
    env,
    waitUntil: (p) => ctx.waitUntil(p),
    requestId: newId("request"),
    ip: request.headers.get("cf-connecting-ip"),
    nonce,
  };
}

/**
 * Headers of every admin page: a strict CSP (scripts only with this response's nonce, nothing
 * framed, no foreign origins), no caching of operator data, no referrer leaks.
 */
export function pageSecurityHeaders(headers: Headers, nonce: string): void {
  headers.set(
    "content-security-policy",
    [
      "default-src 'self'",
      `script-src 'nonce-${nonce}' 'strict-dynamic'`,
      // React renders style attributes (charts); scripts, not styles, are what a nonce must guard.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
  );
  headers.set("x-frame-options", "DENY");
  headers.set("x-content-type-options", "nosniff");
  headers.set("referrer-policy", "same-origin");
  headers.set("cache-control", "no-store");
}
