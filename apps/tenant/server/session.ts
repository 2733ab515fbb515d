import { parse, serialize } from "hono/utils/cookie";
import type { TenantAppEnv } from "./env";

/**
 * One browser session, kept only in an HttpOnly cookie (no script sees it): the API's tokens and
 * the session's CSRF secret, which is random, set at sign-in and kept when the tokens rotate.
 */
export interface Session {
  accessToken: string;
  refreshToken: string;
  csrf: string;
}

/** `__Host-` over https (host-only, Secure, Path=/: no sibling tenant host can set or read it). */
function cookieName(env: TenantAppEnv): string {
  return env.PUBLIC_SCHEME === "https" ? "__Host-tenantry_session" : "tenantry_session";
}

/** A session for a fresh token pair from sign-in, sign-up or an invitation. */
export function newSession(tokens: { access_token: string; refresh_token: string }): Session {
  const csrf = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, csrf };
}

export function readSession(request: Request, env: TenantAppEnv): Session | null {
  const raw = parse(request.headers.get("cookie") ?? "")[cookieName(env)];
  if (!raw) return null;
  try {
    const value = JSON.parse(atob(raw)) as Partial<Session>;
    return typeof value.accessToken === "string" &&
      typeof value.refreshToken === "string" &&
      typeof value.csrf === "string"
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken, csrf: value.csrf }
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

/** Seconds until the access token's `exp` (0 when unreadable): the app renews before it lapses. */
export function accessTokenLifetime(session: Session, now = Date.now()): number {
  try {
    const payload = session.accessToken.split(".")[1] ?? "";
    const { exp } = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as {
      exp?: number;
    };
    return typeof exp === "number" ? exp - now / 1000 : 0;
  } catch {
    return 0;
  }
}
