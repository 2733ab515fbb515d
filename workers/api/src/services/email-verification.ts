import { auditEntry, tenantDb } from "@tenantry/core";
import { users } from "@tenantry/schema/control";
import { eq, sql } from "drizzle-orm";
import type { TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ConflictError, ValidationError } from "../errors";
import { consumeAuthToken, createAuthToken } from "./auth-tokens";
import { mailer } from "./mailer";
import { type TenantRow, tenantUrl } from "./registry";
import { takeAttempt, withinLinkBudget } from "./throttle";

export const EMAIL_VERIFICATION_TTL_MS = 7 * 24 * 3600_000;

/** A new single-use link that verifies the user's address on the tenant's host. */
export async function emailVerificationLink(
  env: Env,
  tenant: Pick<TenantRow, "id" | "slug">,
  user: { id: string },
): Promise<string> {
  const token = await createAuthToken(env, {
    kind: "email_verification",
    userId: user.id,
    tenantId: tenant.id,
    ttlMs: EMAIL_VERIFICATION_TTL_MS,
  });
  return `${tenantUrl(config(env), tenant.slug)}/verify-email?token=${encodeURIComponent(token)}`;
}

/** The welcome message, with the link that verifies the owner's address. */
export async function issueEmailVerification(
  env: Env,
  tenant: TenantRow,
  user: { id: string; email: string },
): Promise<void> {
  const link = await emailVerificationLink(env, tenant, user);
  await mailer(env).send({
    to: user.email,
    tenantId: tenant.id,
    subject: `Welcome to ${tenant.name} on Tenantry`,
    text: `Your workspace is ready at ${tenantUrl(config(env), tenant.slug)}.\n\nVerify your email address (needed before you invite teammates):\n${link}\n\nThe link is valid for 7 days.`,
  });
}

export async function verifyEmail({
  ctx,
  input: { token },
}: {
  ctx: TenantRequestContext;
  input: { token: string };
}): Promise<void> {
  const { env, tenant } = ctx;
  const consumed = await withinLinkBudget(env, "email_verification", ctx.ip, async () => {
    const found = await consumeAuthToken(env, "email_verification", tenant.id, token);
    if (!found) throw new ValidationError("The verification link is invalid, used or expired.");
    return found;
  });
  const now = Date.now();
  await controlDb(env)
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})`, updatedAt: now })
    .where(eq(users.id, consumed.userId));
  const db = tenantDb(env, tenant);
  await auditEntry(
    { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "user", id: consumed.userId } },
    { action: "user.verify_email", target: { type: "user", id: consumed.userId } },
  );
}

/** A resent link costs a mail: a few per user per hour. */
export const RESEND_VERIFICATION_LIMIT = { max: 3, windowMs: 3600_000 } as const;

/**
 * Mails the signed-in user a fresh verification link (the welcome mail's may be lost or
 * expired). Throttled per user; an address already verified is a 409 and sends nothing.
 */
export async function resendEmailVerification({
  ctx,
  input: { userId },
}: {
  ctx: TenantRequestContext;
  input: { userId: string };
}): Promise<void> {
  const { env, tenant } = ctx;
  const user = await controlDb(env)
    .select({ id: users.id, email: users.email, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  if (!user) throw new ValidationError("No such user.");
  if (user.verifiedAt !== null)
    throw new ConflictError("email_already_verified", "The email address is already verified.");
  await takeAttempt(
    env,
    [{ key: `verify-resend:${user.id}`, ...RESEND_VERIFICATION_LIMIT }],
    "Too many verification mails. Try again later.",
  );
  const link = await emailVerificationLink(env, tenant, user);
  await mailer(env).send({
    to: user.email,
    tenantId: tenant.id,
    subject: `Verify your email address for ${tenant.name} on Tenantry`,
    text: `Verify your email address (needed before you invite teammates):\n${link}\n\nThe link is valid for 7 days.`,
  });
}
