import type { SupportMode } from "@tenantry/schema/control";

/**
 * Per-isolate cache of verified sessions (session + membership), so an authenticated request
 * costs one database round trip instead of two. Entries live at most SESSION_CACHE_TTL_SECONDS
 * (default 5, at most 10; 0 disables). Support sessions (operators' support access) are cached
 * the same way under their `sup_` ids: an ended support session is refused within the same
 * bound. Every revocation and role change forgets the affected
 * entries in the isolate that made it; other isolates see it within the TTL. API keys are not
 * cached: a revoked key is refused on the next request everywhere.
 */
export interface CachedSession {
  tenantId: string;
  userId: string;
  memberId: string;
  role: string;
  email: string;
  expiresAt: number;
  /** The tenant requires MFA and the member has not enrolled (user sessions only). */
  mfaEnrolmentRequired?: boolean;
  /** Set for a support session (keyed by its `sup_` id): only active rows are cached. */
  support?: { mode: SupportMode; operatorId: string; operatorEmail: string };
}

const entries = new Map<string, { session: CachedSession; until: number }>();
const LIMIT = 10_000;

export function cachedSession(sid: string, now = Date.now()): CachedSession | null {
  const hit = entries.get(sid);
  if (!hit) return null;
  if (hit.until <= now || hit.session.expiresAt <= now) {
    entries.delete(sid);
    return null;
  }
  return hit.session;
}

export function cacheSession(sid: string, session: CachedSession, ttlSeconds: number): void {
  if (ttlSeconds <= 0) return;
  if (entries.size >= LIMIT) entries.clear();
  entries.set(sid, { session, until: Date.now() + ttlSeconds * 1000 });
}

/**
 * Forgets one session, every session of a user (optionally in one tenant), or every session of a
 * tenant (its MFA policy changed).
 */
export function forgetSessions(match: { sid?: string; userId?: string; tenantId?: string }): void {
  if (match.sid) entries.delete(match.sid);
  if (!match.userId && !match.tenantId) return;
  for (const [sid, { session }] of entries) {
    if (
      (!match.userId || session.userId === match.userId) &&
      (!match.tenantId || session.tenantId === match.tenantId)
    ) {
      entries.delete(sid);
    }
  }
}

/**
 * Per-isolate cache of API key records (by key hash), so a request with an API key costs no
 * database round trip for the key. Same bound as sessions (API_KEY_CACHE_TTL_SECONDS, default 5):
 * a revoked key is refused at once in the isolate that revoked it and within the TTL everywhere.
 * Unknown keys are never cached.
 */
export interface CachedApiKey {
  tenantId: string;
  id: string;
  createdBy: string;
  permissions: string;
  expiresAt: number | null;
  revokedAt: number | null;
  creatorRole: string | null;
  /** When this isolate last recorded the key's use. */
  lastUsedAt: number | null;
}

const apiKeys = new Map<string, { key: CachedApiKey; until: number }>();

export function cachedApiKey(hash: string, now = Date.now()): CachedApiKey | null {
  const hit = apiKeys.get(hash);
  if (!hit) return null;
  if (hit.until <= now) {
    apiKeys.delete(hash);
    return null;
  }
  return hit.key;
}

export function cacheApiKey(hash: string, key: CachedApiKey, ttlSeconds: number): void {
  if (ttlSeconds <= 0) return;
  if (apiKeys.size >= LIMIT) apiKeys.clear();
  apiKeys.set(hash, { key, until: Date.now() + ttlSeconds * 1000 });
}

/** Forgets a tenant's cached keys: one key, or every key a member created. */
export function forgetApiKeys(match: { tenantId: string; id?: string; createdBy?: string }): void {
  for (const [hash, { key }] of apiKeys) {
    if (
      key.tenantId === match.tenantId &&
      (key.id === match.id || key.createdBy === match.createdBy)
    ) {
      apiKeys.delete(hash);
    }
  }
}
