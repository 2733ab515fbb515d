import { parse, serialize } from "hono/utils/cookie";
import type { TenantAppEnv } from "./env";

/** The API's tokens for one browser session, kept only in an HttpOnly cookie (no script sees them). */
export interface Session {
  accessToken: string;
  refreshToken: string;
}

/** `__Host-` over https (host-only, Secure, Path=/: no sibling tenant host can set or read it). */
function cookieName(env: TenantAppEnv): string {
  return env.PUBLIC_SCHEME === "https" ? "__Host-tenantry_session" : "tenantry_session";
}

export function readSession(request: Request, env: TenantAppEnv): Session | null {
  const raw = parse(request.headers.get("cookie") ?? "")[cookieName(env)];
  if (!raw) return null;
  try {
    const value = JSON.parse(atob(raw)) as Partial<Session>;
    return typeof value.accessToken === "string" && typeof value.refreshToken === "string"
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken }
      : null;
  } catch {
    return null;
  }
}

/** Set-Cookie for `session`, or clearing it (null). SameSite=Lax so links from mail sign in. */
export function sessionCookie(env: TenantAppEnv, session: Session | null): string {
  return serialize(cookieName(env), session ? btoa(JSON.stringify(session)) : "", {
    httpOnly: true,
    sameSite: "Lax",
    secure: env.PUBLIC_SCHEME === "https",
    path: "/",
    maxAge: session ? 30 * 24 * 3600 : 0,
  });
}

/**
 * The session's CSRF token, for the forms' hidden `csrf` field: derived from the refresh token,
 * which a cross-site page cannot read, so it needs no state of its own.
 */
export async function csrfToken(session: Session): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`csrf:${session.refreshToken}`),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
