import { auditEntry, type Budget, type TenantDb, tenantDb } from "@tenantry/core";
import { sha256Hex } from "@tenantry/core/crypto";
import { newTotpSecret, totpStep, totpUri } from "@tenantry/core/totp";
import { newId } from "@tenantry/schema";
import { mfaFactors, mfaRecoveryCodes, sessions } from "@tenantry/schema/tenant";
import { and, count, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Actor, ServiceContext, TenantRequestContext } from "../context";
import { ConflictError, ForbiddenError } from "../errors";
import { forgetSessions } from "./session-cache";
import { refundAttempt, takeAttempt } from "./throttle";

const MINUTE = 60_000;
/** Wrong second-factor codes allowed per user per tenant, per 15 minutes (1e6 codes: ample). */
export const MFA_LIMIT = { max: 5, windowMs: 15 * MINUTE } as const;
/** A sensitive action needs a second factor proved on the session this recently. */
export const STEP_UP_WINDOW_MS = 10 * MINUTE;
export const RECOVERY_CODE_COUNT = 10;

type UserActor = Extract<Actor, { type: "user" }>;

/** Only a member's own session enrols, verifies or disables MFA (never a key or support). */
export function mfaUser(actor: Actor): UserActor {
  if (actor.type !== "user") {
    throw new ForbiddenError("MFA belongs to a signed-in member's own session.", "forbidden");
  }
  return actor;
}

function mfaBudget(tenantId: string, userId: string): Budget[] {
  return [{ key: `mfa:user:${tenantId}:${userId}`, ...MFA_LIMIT }];
}

function confirmedFactor(db: TenantDb, userId: string) {
  return db.orm
    .select()
    .from(mfaFactors)
    .where(and(eq(mfaFactors.userId, userId), isNotNull(mfaFactors.confirmedAt)))
    .get();
}

/** Recovery codes as shown: `xxxxx-xxxxx` from an alphabet without look-alikes. */
function newRecoveryCode(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

function recoveryHash(code: string): Promise<string> {
  return sha256Hex(code.trim().toLowerCase().replace(/[\s-]/g, ""));
}

/**
 * Checks a TOTP or recovery code of a member with MFA and consumes it: each is accepted once,
 * by an update guarded on the last accepted step (TOTP) or on `used_at` (recovery codes), so
 * parallel uses of one code give one success. The attempt is taken first, atomically (ADR 008),
 * so parallel wrong guesses cannot all be checked. Returns how it was proved, or null.
 */
export async function consumeSecondFactor(
  ctx: TenantRequestContext,
  userId: string,
  code: string,
): Promise<"totp" | "recovery_code" | null> {
  const taken = await takeAttempt(
    ctx.env,
    mfaBudget(ctx.tenant.id, userId),
    "Too many wrong codes. Try again later.",
  );
  const db = tenantDb(ctx.env, ctx.tenant);
  const factor = await confirmedFactor(db, userId);
  if (!factor) return null;
  let method: "totp" | "recovery_code" | null = null;
  const step = totpStep(factor.secret, code.trim());
  if (step !== null) {
    const [claimed] = await db.orm
      .update(mfaFactors)
      .set({ lastStep: step })
      .where(
        and(
          eq(mfaFactors.userId, userId),
          or(isNull(mfaFactors.lastStep), lt(mfaFactors.lastStep, step)),
        ),
      )
      .returning({ id: mfaFactors.userId });
    if (claimed) method = "totp";
  } else {
    const [used] = await db.orm
      .update(mfaRecoveryCodes)
      .set({ usedAt: Date.now() })
      .where(
        and(
          eq(mfaRecoveryCodes.userId, userId),
          eq(mfaRecoveryCodes.codeHash, await recoveryHash(code)),
          isNull(mfaRecoveryCodes.usedAt),
        ),
      )
      .returning({ id: mfaRecoveryCodes.id });
    if (used) method = "recovery_code";
  }
  if (method) await refundAttempt(ctx.env, taken, { clear: [0] });
  return method;
}

/** Whether the user has confirmed MFA in this tenant (sign-in then asks for a code). */
export async function hasMfa(db: TenantDb, userId: string): Promise<boolean> {
  return (await confirmedFactor(db, userId)) !== undefined;
}

const invalidCode = () =>
  new ForbiddenError("The code is not valid or was already used.", "invalid_mfa_code");

export async function mfaStatus({ ctx }: { ctx: ServiceContext }) {
  const user = mfaUser(ctx.actor);
  const [factor, remaining, session] = await Promise.all([
    ctx.db.orm.select().from(mfaFactors).where(eq(mfaFactors.userId, user.id)).get(),
    ctx.db.orm
      .select({ n: count() })
      .from(mfaRecoveryCodes)
      .where(and(eq(mfaRecoveryCodes.userId, user.id), isNull(mfaRecoveryCodes.usedAt)))
      .get(),
    ctx.db.orm
      .select({ at: sessions.mfaVerifiedAt })
      .from(sessions)
      .where(eq(sessions.id, user.sessionId))
      .get(),
  ]);
  const enabled = Boolean(factor?.confirmedAt);
  return {
    enabled,
    enabled_at: factor?.confirmedAt ? new Date(factor.confirmedAt).toISOString() : null,
    recovery_codes_left: enabled ? (remaining?.n ?? 0) : 0,
    verified_until: session?.at ? new Date(session.at + STEP_UP_WINDOW_MS).toISOString() : null,
  };
}

/**
 * A new set of recovery codes: the codes to show once, and the two statements that replace the
 * user's old set with their hashes (in the caller's batch, so no moment has both or neither).
 */
async function newRecoveryCodes(ctx: ServiceContext, userId: string, now: number) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const rows = await Promise.all(
    codes.map(async (code) => ({
      id: newId("recoveryCode"),
      tenantId: ctx.tenant.id,
      userId,
      codeHash: await recoveryHash(code),
      createdAt: now,
    })),
  );
  const replace = [
    ctx.db.orm.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
    ctx.db.orm.insert(mfaRecoveryCodes).values(rows),
  ] as const;
  return { codes, replace };
}

/**
 * Replaces the member's recovery codes with a new set, shown once: proved by a code sent along
 * (a current TOTP or an unused recovery code) or by a recent step-up on this session. The old
 * codes stop working in the same batch that stores the new ones.
 */
export async function regenerateRecoveryCodes({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { code?: string | undefined };
}) {
  const user = mfaUser(ctx.actor);
  if (!(await hasMfa(ctx.db, user.id)))
    throw new ConflictError("mfa_not_enabled", "Turn on two-factor authentication first.");
  let provedWith: string = "step_up";
  if (input.code !== undefined) {
    const method = await consumeSecondFactor(ctx, user.id, input.code);
    if (!method) throw invalidCode();
    provedWith = method;
  } else {
    await requireRecentMfa(ctx);
  }
  const { codes, replace } = await newRecoveryCodes(ctx, user.id, Date.now());
  await ctx.db.orm.batch([
    ...replace,
    auditEntry(ctx, {
      action: "mfa.regenerate_recovery_codes",
      target: { type: "member", id: user.memberId },
      after: { proved_with: provedWith, recovery_codes: RECOVERY_CODE_COUNT },
    }),
  ]);
  return { recovery_codes: codes };
}

/**
 * Starts (or restarts) enrolment: a new pending secret. Refused while MFA is on (disable first),
 * so a stolen session cannot swap the factor.
 */
export async function startMfaEnrolment({ ctx }: { ctx: ServiceContext }) {
  const user = mfaUser(ctx.actor);
  const secret = newTotpSecret();
  const now = Date.now();
  const [row] = await ctx.db.orm
    .insert(mfaFactors)
    .values({ userId: user.id, tenantId: ctx.tenant.id, secret, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: mfaFactors.userId,
      set: { secret, lastStep: null, updatedAt: now },
      setWhere: isNull(mfaFactors.confirmedAt),
    })
    .returning({ id: mfaFactors.userId });
  if (!row) throw new ConflictError("mfa_enabled", "MFA is already on; disable it first.");
  return { secret, otpauth_uri: totpUri(secret, user.email, ctx.tenant.name) };
}

/**
 * Confirms enrolment with a current code: the factor turns on (one guarded update: parallel
 * confirmations give one success), recovery codes replace any old ones, and the session counts
 * as verified. The codes are returned this once; only their hashes are stored.
 */
export async function confirmMfaEnrolment({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { code: string };
}) {
  const user = mfaUser(ctx.actor);
  const taken = await takeAttempt(
    ctx.env,
    mfaBudget(ctx.tenant.id, user.id),
    "Too many wrong codes. Try again later.",
  );
  const pending = await ctx.db.orm
    .select()
    .from(mfaFactors)
    .where(and(eq(mfaFactors.userId, user.id), isNull(mfaFactors.confirmedAt)))
    .get();
  const step = pending ? totpStep(pending.secret, input.code.trim()) : null;
  if (!pending || step === null) throw invalidCode();
  const now = Date.now();
  const [claimed] = await ctx.db.orm
    .update(mfaFactors)
    .set({ confirmedAt: now, lastStep: step, updatedAt: now })
    .where(
      and(
        eq(mfaFactors.userId, user.id),
        eq(mfaFactors.secret, pending.secret),
        isNull(mfaFactors.confirmedAt),
      ),
    )
    .returning({ id: mfaFactors.userId });
  if (!claimed) throw invalidCode();
  await refundAttempt(ctx.env, taken, { clear: [0] });
  const { codes, replace } = await newRecoveryCodes(ctx, user.id, now);
  await ctx.db.orm.batch([
    ...replace,
    ctx.db.orm.update(sessions).set({ mfaVerifiedAt: now }).where(eq(sessions.id, user.sessionId)),
    auditEntry(ctx, {
      action: "mfa.enable",
      target: { type: "member", id: user.memberId },
      after: { method: "totp", recovery_codes: RECOVERY_CODE_COUNT },
    }),
  ]);
  // Cached sessions carry whether the require-MFA policy holds this member back.
  forgetSessions({ userId: user.id, tenantId: ctx.tenant.id });
  return { recovery_codes: codes };
}

/** Turns MFA off, proved by a current TOTP or an unused recovery code. */
export async function disableMfa({ ctx, input }: { ctx: ServiceContext; input: { code: string } }) {
  const user = mfaUser(ctx.actor);
  const method = await consumeSecondFactor(ctx, user.id, input.code);
  if (!method) throw invalidCode();
  await ctx.db.orm.batch([
    ctx.db.orm.delete(mfaFactors).where(eq(mfaFactors.userId, user.id)),
    ctx.db.orm.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id)),
    auditEntry(ctx, {
      action: "mfa.disable",
      target: { type: "member", id: user.memberId },
      after: { proved_with: method },
    }),
  ]);
  forgetSessions({ userId: user.id, tenantId: ctx.tenant.id });
}

/** Step-up: proves the second factor again on this session, for the next sensitive actions. */
export async function verifyMfa({ ctx, input }: { ctx: ServiceContext; input: { code: string } }) {
  const user = mfaUser(ctx.actor);
  const method = await consumeSecondFactor(ctx, user.id, input.code);
  if (!method) throw invalidCode();
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm.update(sessions).set({ mfaVerifiedAt: now }).where(eq(sessions.id, user.sessionId)),
    auditEntry(ctx, {
      action: "session.verify_mfa",
      target: { type: "session", id: user.sessionId },
      after: { proved_with: method },
    }),
  ]);
  return { verified_until: new Date(now + STEP_UP_WINDOW_MS).toISOString() };
}

/**
 * The guard of sensitive actions (API key creation, owner changes, every SSO configuration
 * change): a member with MFA must have proved it on this session within STEP_UP_WINDOW_MS. A
 * member without it who signed in through SSO steps up by signing in through SSO again: the
 * session's start is the IdP's proof. Other members without MFA pass (the require-MFA policy is
 * what makes them enrol).
 */
export async function requireRecentMfa(ctx: ServiceContext): Promise<void> {
  if (ctx.actor.type !== "user") return;
  const row = await ctx.db.orm
    .select({
      confirmedAt: mfaFactors.confirmedAt,
      verifiedAt: sessions.mfaVerifiedAt,
      signedInWith: sessions.signedInWith,
      createdAt: sessions.createdAt,
    })
    .from(sessions)
    .leftJoin(mfaFactors, eq(mfaFactors.userId, sessions.userId))
    .where(eq(sessions.id, ctx.actor.sessionId))
    .get();
  const since = Date.now() - STEP_UP_WINDOW_MS;
  if (!row?.confirmedAt) {
    if (row?.signedInWith !== "sso" || row.createdAt > since) return;
    throw new ForbiddenError(
      "Sign in again with single sign-on, then retry within 10 minutes.",
      "sso_step_up_required",
    );
  }
  if (row.verifiedAt !== null && row.verifiedAt > since) return;
  throw new ForbiddenError(
    "Confirm with your authentication code first (POST /v1/me/mfa/verify), then retry.",
    "mfa_step_up_required",
  );
}
