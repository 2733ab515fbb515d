import { controlDb, ProblemError } from "@tenantry/core";
import { sha256Hex } from "@tenantry/core/crypto";
import { operatorSessions, operators, operatorTokens } from "@tenantry/schema/control";
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Operator } from "./context";
import { type AdminEnv, adminConfig } from "./env";
import { can, type OperatorPermission } from "./roles";

/** Operator API tokens: `tnop_` + secret; only the SHA-256 is stored. */
export const OPERATOR_TOKEN_PREFIX = "tnop_";
/** Every operator session ends this long after sign-in, however active. */
export const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;
/** Last activity is written at most this often (the idle check tolerates the difference). */
const TOUCH_RESOLUTION_MS = 60_000;

/** The session cookie: `__Host-` (Secure, no Domain, Path=/) outside development. */
export function sessionCookieName(env: AdminEnv): string {
  return adminConfig(env).PUBLIC_SCHEME === "https"
    ? "__Host-tenantry_operator"
    : "tenantry_operator";
}

export function unauthorized(detail = "Sign in as an operator."): ProblemError {
  return new ProblemError(
    401,
    "unauthorized",
    "Unauthorized",
    detail,
    {},
    {
      "www-authenticate": 'Bearer realm="tenantry-admin"',
    },
  );
}

export function forbidden(permission: OperatorPermission): ProblemError {
  return new ProblemError(
    403,
    "forbidden",
    "Forbidden",
    `Your operator role does not include ${permission}.`,
    { permission },
  );
}

/** Throws 403 unless the operator's role grants `permission`. */
export function assertCan(operator: Operator, permission: OperatorPermission): void {
  if (!can(operator.role, permission)) throw forbidden(permission);
}

/** An operator API token's operator, with the token's role; null when unknown, revoked or expired. */
export async function operatorFromToken(
  env: AdminEnv,
  token: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Operator | null> {
  if (!token.startsWith(OPERATOR_TOKEN_PREFIX)) return null;
  const db = controlDb(env);
  const now = Date.now();
  const [row] = await db
    .select({
      tokenId: operatorTokens.id,
      tokenRole: operatorTokens.role,
      lastUsedAt: operatorTokens.lastUsedAt,
      id: operators.id,
      email: operators.email,
      name: operators.name,
    })
    .from(operatorTokens)
    .innerJoin(operators, eq(operators.id, operatorTokens.operatorId))
    .where(
      and(
        eq(operatorTokens.secretHash, await sha256Hex(token)),
        isNull(operatorTokens.revokedAt),
        gt(operatorTokens.expiresAt, now),
        eq(operators.status, "active"),
      ),
    );
  if (!row) return null;
  if (!row.lastUsedAt || now - row.lastUsedAt > TOUCH_RESOLUTION_MS) {
    waitUntil(
      db.update(operatorTokens).set({ lastUsedAt: now }).where(eq(operatorTokens.id, row.tokenId)),
    );
  }
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.tokenRole,
    via: { type: "token", id: row.tokenId },
  };
}

/** A session cookie's operator; null when unknown, revoked, idle too long or past its end. */
export async function operatorFromSession(
  env: AdminEnv,
  secret: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<(Operator & { csrfToken: string }) | null> {
  const db = controlDb(env);
  const now = Date.now();
  const idleMs = adminConfig(env).OPERATOR_IDLE_MINUTES * 60_000;
  const [row] = await db
    .select({
      sessionId: operatorSessions.id,
      csrfToken: operatorSessions.csrfToken,
      lastSeenAt: operatorSessions.lastSeenAt,
      id: operators.id,
      email: operators.email,
      name: operators.name,
      role: operators.role,
    })
    .from(operatorSessions)
    .innerJoin(operators, eq(operators.id, operatorSessions.operatorId))
    .where(
      and(
        eq(operatorSessions.secretHash, await sha256Hex(secret)),
        isNull(operatorSessions.revokedAt),
        gt(operatorSessions.expiresAt, now),
        gt(operatorSessions.lastSeenAt, now - idleMs),
        eq(operators.status, "active"),
      ),
    );
  if (!row) return null;
  if (now - row.lastSeenAt > TOUCH_RESOLUTION_MS) {
    waitUntil(
      db
        .update(operatorSessions)
        .set({ lastSeenAt: now })
        .where(eq(operatorSessions.id, row.sessionId)),
    );
  }
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    via: { type: "session", id: row.sessionId },
    csrfToken: row.csrfToken,
  };
}
