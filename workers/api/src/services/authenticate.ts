import { tenantDb } from "@tenantry/core";
import { sha256Hex } from "@tenantry/core/crypto";
import { supportSessions } from "@tenantry/schema/control";
import { members } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "../context";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { verifyAccessToken } from "../lib/jwt";
import { looksLikeSupportToken, verifySupportToken } from "../lib/support-token";
import { isRole, PERMISSIONS, type Permission, ROLE_PERMISSIONS } from "../rbac/permissions";
import type { TenantRow } from "./registry";
import { cacheApiKey, cachedApiKey, cachedSession, cacheSession } from "./session-cache";

export const API_KEY_PREFIX = "tnry_";
/** Last use is recorded at most once a minute per key, off the request path. */
const LAST_USED_RESOLUTION_MS = 60_000;

const PermissionListSchema = z.array(z.enum(PERMISSIONS));

interface AuthOptions {
  ip: string | null;
  waitUntil: (p: Promise<unknown>) => void;
}

/** Resolves a bearer credential to an actor of `tenant`, or null (→ 401). */
export async function authenticate(
  env: Env,
  tenant: TenantRow,
  credential: string,
  opts: AuthOptions,
): Promise<Actor | null> {
  if (credential.startsWith(API_KEY_PREFIX))
    return authenticateApiKey(env, tenant, credential, opts);
  if (looksLikeSupportToken(credential)) return authenticateSupportToken(env, tenant, credential);
  return authenticateAccessToken(env, tenant, credential);
}

/**
 * An operator's support token: accepted only on its tenant's host, while its support session is
 * active and unexpired (the control row, cached at most SESSION_CACHE_TTL_SECONDS), acting with
 * the impersonated member's current role.
 */
async function authenticateSupportToken(
  env: Env,
  tenant: TenantRow,
  token: string,
): Promise<Actor | null> {
  const cfg = config(env);
  const claims = await verifySupportToken(cfg, token);
  if (!claims || claims.tid !== tenant.id) return null;
  let session = cachedSession(claims.sid);
  if (!session) {
    const row = await controlDb(env)
      .select()
      .from(supportSessions)
      .where(eq(supportSessions.id, claims.sid))
      .get();
    if (
      row?.status !== "active" ||
      row.expiresAt === null ||
      row.expiresAt <= Date.now() ||
      row.tenantId !== tenant.id
    ) {
      return null;
    }
    const member = await tenantDb(env, tenant)
      .orm.select({ id: members.id, role: members.role, email: members.email })
      .from(members)
      .where(and(eq(members.userId, row.userId), eq(members.tenantId, tenant.id)))
      .get();
    if (!member) return null;
    session = {
      tenantId: tenant.id,
      userId: row.userId,
      memberId: member.id,
      role: member.role,
      email: member.email,
      expiresAt: row.expiresAt,
      support: { mode: row.mode, operatorId: row.operatorId, operatorEmail: row.operatorEmail },
    };
    cacheSession(claims.sid, session, cfg.SESSION_CACHE_TTL_SECONDS);
  }
  const { support } = session;
  if (
    !support ||
    session.userId !== claims.sub ||
    session.tenantId !== tenant.id ||
    support.mode !== claims.mode ||
    !isRole(session.role)
  ) {
    return null;
  }
  return {
    type: "support",
    id: claims.sid,
    userId: session.userId,
    memberId: session.memberId,
    email: session.email,
    role: session.role,
    mode: support.mode,
    operator: { id: support.operatorId, email: support.operatorEmail },
    expiresAt: session.expiresAt,
    permissions: ROLE_PERMISSIONS[session.role],
  };
}

async function authenticateAccessToken(
  env: Env,
  tenant: TenantRow,
  token: string,
): Promise<Actor | null> {
  const cfg = config(env);
  const claims = await verifyAccessToken(cfg, token);
  // The credential names its tenant; it must be the host's tenant.
  if (!claims || claims.tid !== tenant.id) return null;
  let session = cachedSession(claims.sid);
  if (!session) {
    // Raw on purpose: the hot path of every JWT request (one round trip, no ORM mapping).
    const row = await tenantDb(env, tenant)
      .d1.prepare(
        `SELECT m.id AS member_id, m.role, m.email, s.revoked_at, s.expires_at, s.signed_in_with,
           (SELECT require_mfa FROM security_settings WHERE tenant_id = ?3) AS require_mfa,
           (SELECT confirmed_at FROM mfa_factors WHERE user_id = s.user_id) AS mfa_at
         FROM sessions s JOIN members m ON m.user_id = s.user_id
         WHERE s.id = ?1 AND s.user_id = ?2 AND s.tenant_id = ?3 AND m.tenant_id = ?3`,
      )
      .bind(claims.sid, claims.sub, tenant.id)
      .first<{
        member_id: string;
        role: string;
        email: string;
        revoked_at: number | null;
        expires_at: number;
        signed_in_with: string;
        require_mfa: number | null;
        mfa_at: number | null;
      }>();
    if (!row || row.revoked_at !== null || row.expires_at <= Date.now()) return null;
    session = {
      tenantId: tenant.id,
      userId: claims.sub,
      memberId: row.member_id,
      role: row.role,
      email: row.email,
      expiresAt: row.expires_at,
      // An SSO session satisfies the policy through the IdP's own factors (ADR 023).
      mfaEnrolmentRequired:
        row.require_mfa === 1 && row.mfa_at === null && row.signed_in_with !== "sso",
    };
    cacheSession(claims.sid, session, cfg.SESSION_CACHE_TTL_SECONDS);
  }
  if (
    session.support ||
    session.userId !== claims.sub ||
    session.tenantId !== tenant.id ||
    !isRole(session.role)
  )
    return null;
  return {
    type: "user",
    id: claims.sub,
    memberId: session.memberId,
    email: session.email,
    role: session.role,
    sessionId: claims.sid,
    mfaEnrolmentRequired: session.mfaEnrolmentRequired ?? false,
    permissions: ROLE_PERMISSIONS[session.role],
  };
}

async function authenticateApiKey(
  env: Env,
  tenant: TenantRow,
  key: string,
  opts: AuthOptions,
): Promise<Actor | null> {
  const db = tenantDb(env, tenant);
  const hash = await sha256Hex(key);
  let row = cachedApiKey(hash);
  if (!row || row.tenantId !== tenant.id) {
    // Raw on purpose: the hot path of API-key requests (measured in bench/README.md).
    const found = await db.d1
      .prepare(
        `SELECT k.id, k.permissions, k.created_by, k.expires_at, k.revoked_at, k.last_used_at,
                m.role AS creator_role
         FROM api_keys k LEFT JOIN members m ON m.user_id = k.created_by AND m.tenant_id = k.tenant_id
         WHERE k.key_hash = ?1 AND k.tenant_id = ?2`,
      )
      .bind(hash, tenant.id)
      .first<{
        id: string;
        permissions: string;
        created_by: string;
        expires_at: number | null;
        revoked_at: number | null;
        last_used_at: number | null;
        creator_role: string | null;
      }>();
    if (!found) return null;
    row = {
      tenantId: tenant.id,
      id: found.id,
      createdBy: found.created_by,
      permissions: found.permissions,
      expiresAt: found.expires_at,
      revokedAt: found.revoked_at,
      creatorRole: found.creator_role,
      lastUsedAt: found.last_used_at,
    };
    cacheApiKey(hash, row, config(env).API_KEY_CACHE_TTL_SECONDS);
  }
  const now = Date.now();
  if (row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return null;
  // A key never outranks the member who created it: a removed creator's keys stop working, and
  // a demoted creator's keys lose what the new role lacks.
  if (!row.creatorRole || !isRole(row.creatorRole)) return null;
  const creatorPermissions = ROLE_PERMISSIONS[row.creatorRole];
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_RESOLUTION_MS) {
    row.lastUsedAt = now;
    opts.waitUntil(
      db.d1.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, row.id).run(),
    );
  }
  const permissions = PermissionListSchema.safeParse(JSON.parse(row.permissions));
  if (!permissions.success) return null;
  return {
    type: "api_key",
    id: row.id,
    createdBy: row.createdBy,
    permissions: new Set<Permission>(permissions.data.filter((p) => creatorPermissions.has(p))),
  };
}
