import { auditEntry, tenantDb } from "@tenantry/core";
import { hashPassword } from "@tenantry/core/crypto";
import { ID_PREFIXES } from "@tenantry/schema";
import { users, userTenants } from "@tenantry/schema/control";
import { members, sessions } from "@tenantry/schema/tenant";
import { and, eq, isNull } from "drizzle-orm";
import type { TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ForbiddenError, ValidationError } from "../errors";
import { activeKeysCreatedBy } from "./api-keys";
import { consumeAuthToken, createAuthToken } from "./auth-tokens";
import { SSO_REQUIRED } from "./login";
import { mailer } from "./mailer";
import { findTenantById, tenantUrl } from "./registry";
import { forgetSessions } from "./session-cache";
import { passwordRefusedBySso } from "./sso/realm";
import { type Budget, takeAttempt, withinLinkBudget } from "./throttle";

export const PASSWORD_RESET_TTL_MS = 3600_000;

const HOUR = 3600_000;

/** Reset requests cost a mail: per address (per tenant) and per client, per hour. */
export const PASSWORD_RESET_LIMITS = {
  address: { max: 5, windowMs: HOUR },
  client: { max: 20, windowMs: HOUR },
} as const;

export function passwordResetBudgets(tenantId: string, email: string, ip: string | null): Budget[] {
  return [
    { key: `reset:address:${tenantId}:${email}`, ...PASSWORD_RESET_LIMITS.address },
    { key: `reset:client:${ip ?? "unknown"}`, ...PASSWORD_RESET_LIMITS.client },
  ];
}

/**
 * Takes an attempt from both budgets and queues the reset; the consumer decides whether the email
 * belongs to a member (`mailPasswordReset`). The request does the same work either way, so
 * neither its answer (always 202) nor its timing tells whether an account exists.
 */
export async function requestPasswordReset({
  ctx,
  input: { email },
}: {
  ctx: TenantRequestContext;
  input: { email: string };
}): Promise<void> {
  const { env, tenant } = ctx;
  await takeAttempt(
    env,
    passwordResetBudgets(tenant.id, email, ctx.ip),
    "Too many password reset requests. Try again later.",
  );
  await env.MAIL_QUEUE.send({
    kind: "password_reset",
    tenant_id: tenant.id,
    email,
    request_id: ctx.requestId,
  });
}

/**
 * The queue's half of a reset request: mails a single-use reset link when the email belongs to a
 * member of the tenant, and does nothing otherwise. The mail id comes from the request id, so a
 * redelivered request mails at most once.
 */
export async function mailPasswordReset(
  env: Env,
  message: { tenant_id: string; email: string; request_id: string },
): Promise<void> {
  const tenant = await findTenantById(env, message.tenant_id);
  if (!tenant?.databaseBinding) return;
  const { email } = message;
  const user = await controlDb(env)
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, email))
    .get();
  if (!user) return;
  const member = await tenantDb(env, tenant)
    .orm.select({ id: members.id, role: members.role })
    .from(members)
    .where(eq(members.userId, user.id))
    .get();
  // No reset mail where SSO is enforced (the request's answer is the same 202 either way).
  if (!member || (await passwordRefusedBySso(env, tenant, email, member.role))) return;
  const token = await createAuthToken(env, {
    kind: "password_reset",
    userId: user.id,
    tenantId: tenant.id,
    ttlMs: PASSWORD_RESET_TTL_MS,
  });
  const link = `${tenantUrl(config(env), tenant.slug)}/reset-password?token=${encodeURIComponent(token)}`;
  await mailer(env).send({
    id: `${ID_PREFIXES.mail}_${message.request_id.slice(ID_PREFIXES.request.length + 1)}`,
    to: email,
    tenantId: tenant.id,
    subject: "Reset your Tenantry password",
    text: `Someone asked to reset the password of ${email} for ${tenant.name}.\n\nChoose a new password (valid for one hour, once):\n${link}\n\nIf it wasn't you, ignore this message.`,
  });
}

/**
 * Sets the new password and revokes every session of the user, in every tenant. The link only
 * works while its user is still a member of the tenant it was sent for. Returns the API keys the
 * user created here and that still work: whoever knew the old password could have minted them,
 * so the user should look (and can revoke them with DELETE /v1/me/api-keys/{id}).
 */
export async function confirmPasswordReset({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { token: string; password: string };
}) {
  const { env, tenant } = ctx;
  const invalid = () => new ValidationError("The reset link is invalid, used or expired.");
  const consumed = await withinLinkBudget(env, "password_reset", ctx.ip, async () => {
    const found = await consumeAuthToken(env, "password_reset", tenant.id, input.token);
    if (!found) throw invalid();
    return found;
  });
  const member = await tenantDb(env, tenant)
    .orm.select({ id: members.id, role: members.role, email: members.email })
    .from(members)
    .where(eq(members.userId, consumed.userId))
    .get();
  if (!member) throw invalid();
  // A link mailed before SSO was enforced no longer sets a password.
  if (await passwordRefusedBySso(env, tenant, member.email, member.role))
    throw new ForbiddenError(SSO_REQUIRED, "sso_required");
  const now = Date.now();
  await controlDb(env)
    .update(users)
    .set({ passwordHash: await hashPassword(input.password), updatedAt: now })
    .where(eq(users.id, consumed.userId));
  const memberships = await controlDb(env)
    .select({ tenant_id: userTenants.tenantId })
    .from(userTenants)
    .where(eq(userTenants.userId, consumed.userId));
  for (const { tenant_id } of memberships) {
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
  return { api_keys: await activeKeysCreatedBy(tenantDb(env, tenant), consumed.userId) };
}
