import { auditEntry, type TenantDb, tenantDb } from "@tenantry/core";
import { sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { sessions } from "@tenantry/schema/tenant";
import { and, eq, isNull } from "drizzle-orm";
import type { TenantRequestContext } from "../context";
import { config } from "../env";
import { UnauthorizedError } from "../errors";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  issueRefreshSecret,
  signAccessToken,
  wasRefreshSecretIssued,
} from "../lib/jwt";
import { forgetSessions } from "./session-cache";

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

type SessionCtx = TenantRequestContext;

/**
 * Refresh tokens are `<session id>.<nonce>.<mac>` (see `issueRefreshSecret`); only the hash of
 * the secret part is stored. Tokens from before the MAC (`<session id>.<secret>`) still parse.
 */
function parseRefreshToken(token: string): { sid: string; secret: string } | null {
  const dot = token.indexOf(".");
  const sid = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (dot < 0 || !sid.startsWith("ses_") || !secret || secret.split(".").length > 2) return null;
  return { sid, secret };
}

async function issue(
  ctx: SessionCtx,
  userId: string,
  sid: string,
  secret: string,
): Promise<TokenPair> {
  return {
    access_token: await signAccessToken(config(ctx.env), { sub: userId, tid: ctx.tenant.id, sid }),
    refresh_token: `${sid}.${secret}`,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
  };
}

/**
 * Signs a user into the tenant: a session row and its audit entry, in one batch. `mfa` says how
 * the second factor was proved, if it was (the session then starts MFA-verified).
 */
export async function createSession({
  ctx,
  input: { userId, mfa, via = "password" },
}: {
  ctx: SessionCtx;
  /** `via: "sso"`: the IdP proved who signs in, and its factors count for require-MFA (ADR 023). */
  input: { userId: string; mfa?: "totp" | "recovery_code"; via?: "password" | "sso" };
}): Promise<TokenPair> {
  const db = tenantDb(ctx.env, ctx.tenant);
  const sid = newId("session");
  const secret = await issueRefreshSecret(config(ctx.env), sid);
  const now = Date.now();
  await db.orm.batch([
    db.orm.insert(sessions).values({
      id: sid,
      tenantId: ctx.tenant.id,
      userId,
      refreshHash: await sha256Hex(secret),
      createdAt: now,
      refreshedAt: now,
      expiresAt: now + REFRESH_TOKEN_TTL_MS,
      ip: ctx.ip,
      mfaVerifiedAt: mfa ? now : null,
      signedInWith: via,
    }),
    auditEntry(
      { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "user", id: userId } },
      {
        action: "session.create",
        target: { type: "session", id: sid },
        ...(mfa ? { after: { mfa } } : via === "sso" ? { after: { via } } : {}),
      },
    ),
  ]);
  return issue(ctx, userId, sid, secret);
}

function revokeQuery(db: TenantDb, sid: string, reason: string) {
  return db.orm
    .update(sessions)
    .set({ revokedAt: Date.now(), revokedReason: reason })
    .where(and(eq(sessions.id, sid), isNull(sessions.revokedAt)));
}

/**
 * Rotates the refresh token. Presenting a token this server issued for the session but that is
 * no longer current (an old, already rotated one) is treated as theft: the session is revoked
 * and the caller gets 401. A made-up secret is a plain 401 and changes nothing.
 */
export async function refreshSession({
  ctx,
  input: { refreshToken },
}: {
  ctx: SessionCtx;
  input: { refreshToken: string };
}): Promise<TokenPair> {
  const parsed = parseRefreshToken(refreshToken);
  if (!parsed) throw new UnauthorizedError("Invalid refresh token.");
  const db = tenantDb(ctx.env, ctx.tenant);
  const session = await db.orm.select().from(sessions).where(eq(sessions.id, parsed.sid)).get();
  if (!session || session.revokedAt !== null || session.expiresAt <= Date.now()) {
    throw new UnauthorizedError("Invalid refresh token.");
  }
  const presentedHash = await sha256Hex(parsed.secret);
  const actor = { type: "user", id: session.userId };
  if (presentedHash !== session.refreshHash) {
    if (!(await wasRefreshSecretIssued(config(ctx.env), session.id, parsed.secret))) {
      throw new UnauthorizedError("Invalid refresh token.");
    }
    await db.orm.batch([
      revokeQuery(db, session.id, "refresh_token_reuse"),
      auditEntry(
        { db, requestId: ctx.requestId, ip: ctx.ip, actor },
        {
          action: "session.revoke",
          target: { type: "session", id: session.id },
          after: { reason: "refresh_token_reuse" },
        },
      ),
    ]);
    forgetSessions({ sid: session.id });
    throw new UnauthorizedError("Refresh token reuse detected; the session has been revoked.");
  }
  const secret = await issueRefreshSecret(config(ctx.env), session.id);
  // Compare-and-swap on the old hash: of two concurrent refreshes with one token, one wins.
  const swapped = await db.orm
    .update(sessions)
    .set({ refreshHash: await sha256Hex(secret), refreshedAt: Date.now() })
    .where(
      and(
        eq(sessions.id, session.id),
        eq(sessions.refreshHash, presentedHash),
        isNull(sessions.revokedAt),
      ),
    )
    .returning({ id: sessions.id });
  if (swapped.length !== 1) throw new UnauthorizedError("Invalid refresh token.");
  return issue(ctx, session.userId, session.id, secret);
}

export async function revokeSession({
  ctx,
  input: { sessionId: sid, reason },
}: {
  ctx: SessionCtx & { actor: { type: string; id: string } };
  input: { sessionId: string; reason: string };
}): Promise<void> {
  const db = tenantDb(ctx.env, ctx.tenant);
  await db.orm.batch([
    revokeQuery(db, sid, reason),
    auditEntry(
      { db, requestId: ctx.requestId, ip: ctx.ip, actor: ctx.actor },
      { action: "session.revoke", target: { type: "session", id: sid }, after: { reason } },
    ),
  ]);
  forgetSessions({ sid });
}
