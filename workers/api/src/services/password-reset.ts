import { auditEntry, tenantDb } from "@tenantry/core";
import { users } from "@tenantry/schema/control";
import { members, sessions } from "@tenantry/schema/tenant";
import { and, eq, isNull } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ValidationError } from "../errors";
import { hashPassword } from "../lib/crypto";
import { consumeAuthToken, createAuthToken } from "./auth-tokens";
import { mailer } from "./mailer";
import { findTenantById, type TenantRow, tenantUrl } from "./registry";
import { forgetSessions } from "./session-cache";

export const PASSWORD_RESET_TTL_MS = 3600_000;

/**
 * Mails a single-use reset link when the email belongs to a member of this tenant. The caller
 * always answers 202, whatever happened here, so accounts cannot be enumerated.
 */
export async function requestPasswordReset(
  env: Env,
  tenant: TenantRow,
  email: string,
): Promise<void> {
  const user = await controlDb(env)
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, email))
    .get();
  if (!user) return;
  const member = await tenantDb(env, tenant)
    .orm.select({ id: members.id })
    .from(members)
    .where(eq(members.userId, user.id))
    .get();
  if (!member) return;
  const token = await createAuthToken(env, {
    kind: "password_reset",
    userId: user.id,
    tenantId: tenant.id,
    ttlMs: PASSWORD_RESET_TTL_MS,
  });
  const link = `${tenantUrl(config(env), tenant.slug)}/reset-password?token=${encodeURIComponent(token)}`;
  await mailer(env).send({
    to: email,
    tenantId: tenant.id,
    subject: "Reset your Tenantry password",
    text: `Someone asked to reset the password of ${email} for ${tenant.name}.\n\nChoose a new password (valid for one hour, once):\n${link}\n\nIf it wasn't you, ignore this message.`,
  });
}

/** Sets the new password and revokes every session of the user, in every tenant. */
export async function confirmPasswordReset(
  env: Env,
  tenant: TenantRow,
  input: { token: string; password: string },
  ctx: { requestId: string; ip: string | null },
): Promise<void> {
  const consumed = await consumeAuthToken(env, "password_reset", tenant.id, input.token);
  if (!consumed) throw new ValidationError("The reset link is invalid, used or expired.");
  const now = Date.now();
  await env.CONTROL_DB.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
    .bind(await hashPassword(input.password), now, consumed.userId)
    .run();
  const memberships = await env.CONTROL_DB.prepare(
    "SELECT tenant_id FROM user_tenants WHERE user_id = ?",
  )
    .bind(consumed.userId)
    .all<{ tenant_id: string }>();
  for (const { tenant_id } of memberships.results) {
    const t = tenant_id === tenant.id ? tenant : await findTenantById(env, tenant_id);
    if (!t?.databaseBinding) continue;
    const db = tenantDb(env, t);
    const revoke = db.orm
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "password_reset" })
      .where(and(eq(sessions.userId, consumed.userId), isNull(sessions.revokedAt)));
    if (t.id !== tenant.id) {
      await revoke;
      continue;
    }
    await db.orm.batch([
      revoke,
      auditEntry(
        { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "user", id: consumed.userId } },
        { action: "user.reset_password", target: { type: "user", id: consumed.userId } },
      ),
    ]);
  }
  forgetSessions({ userId: consumed.userId });
}
