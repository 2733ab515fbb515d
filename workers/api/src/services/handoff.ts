import { auditEntry, tenantDb } from "@tenantry/core";
import { randomSecret } from "@tenantry/core/crypto";
import { sessions } from "@tenantry/schema/tenant";
import { and, eq, isNull } from "drizzle-orm";
import type { TenantRequestContext } from "../context";
import { UnauthorizedError } from "../errors";
import { consumeAuthToken, createAuthToken } from "./auth-tokens";
import { forgetSessions } from "./session-cache";
import { createSession, type TokenPair } from "./sessions";
import { withinLinkBudget } from "./throttle";

/** A hand-off code is redeemed by the browser's very next request: a minute is plenty. */
export const HANDOFF_TTL_MS = 60_000;

const REFUSED =
  "The sign-in link is invalid, used or expired. Sign in with your email and password.";

/**
 * A one-time code that moves a signed-in session from the apex (where sign-up happened) to the
 * tenant's host, where the session cookie must live (ADR 018). The code names the session it
 * hands off (`<session id>.<secret>`, hashed whole in `auth_tokens`), so redeeming it can retire
 * that session: the tokens that passed through the apex are dead once the browser has its own.
 */
export async function createHandoff({
  ctx,
  input: { userId, sessionId },
}: {
  ctx: TenantRequestContext;
  input: { userId: string; sessionId: string };
}): Promise<{ code: string; expires_in: number }> {
  const secret = randomSecret();
  const code = `${sessionId}.${secret}`;
  await createAuthToken(ctx.env, {
    kind: "handoff",
    userId,
    tenantId: ctx.tenant.id,
    ttlMs: HANDOFF_TTL_MS,
    token: code,
  });
  return { code, expires_in: HANDOFF_TTL_MS / 1000 };
}

/**
 * Redeems a hand-off code for a new session. Consuming the code is one guarded statement (of
 * parallel redeems one wins); the winner then revokes the handed-off session and signs the user
 * in afresh. A code of another tenant, used or expired, is a 401 that changes nothing.
 */
export async function redeemHandoff({
  ctx,
  input: { code },
}: {
  ctx: TenantRequestContext;
  input: { code: string };
}): Promise<TokenPair> {
  const consumed = await withinLinkBudget(ctx.env, "handoff", ctx.ip, async () => {
    const found = await consumeAuthToken(ctx.env, "handoff", ctx.tenant.id, code);
    if (!found) throw new UnauthorizedError(REFUSED);
    return found;
  });
  const sid = code.slice(0, code.indexOf("."));
  const db = tenantDb(ctx.env, ctx.tenant);
  const actor = { type: "user", id: consumed.userId };
  const [retired] = await db.orm.batch([
    db.orm
      .update(sessions)
      .set({ revokedAt: Date.now(), revokedReason: "handed_off" })
      .where(
        and(eq(sessions.id, sid), eq(sessions.userId, consumed.userId), isNull(sessions.revokedAt)),
      )
      .returning({ id: sessions.id }),
    auditEntry(
      { db, requestId: ctx.requestId, ip: ctx.ip, actor },
      {
        action: "session.revoke",
        target: { type: "session", id: sid },
        after: { reason: "handed_off" },
      },
    ),
  ]);
  forgetSessions({ sid });
  // Signed out (or revoked) between sign-up and redeem: nothing to hand off.
  if (retired.length !== 1) throw new UnauthorizedError(REFUSED);
  return createSession({ ctx, input: { userId: consumed.userId } });
}
