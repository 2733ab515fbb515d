import { auditEntry, tenantDb } from "@tenantry/core";
import {
  burnPasswordCheck,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "@tenantry/core/crypto";
import { users } from "@tenantry/schema/control";
import { members } from "@tenantry/schema/tenant";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config } from "../env";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { signPurposeToken, verifyPurposeToken } from "../lib/jwt";
import { consumeSecondFactor, hasMfa } from "./mfa";
import { createSession, type TokenPair } from "./sessions";
import { passwordRefusedBySso } from "./sso/realm";
import { refundAttempt, signInBudgets, takeAttempt } from "./throttle";

const INVALID = "Invalid email or password.";
const MFA_PURPOSE = "mfa-challenge";
/** How long the password step stays good for while the user finds their code. */
export const MFA_CHALLENGE_TTL_SECONDS = 300;
const ChallengeClaimsSchema = z.object({ sub: z.string(), tid: z.string() });

export interface MfaChallenge {
  mfa_required: true;
  challenge: string;
  expires_in: number;
}
export const SSO_REQUIRED =
  "Your organisation signs you in with single sign-on: use Continue with SSO.";

/**
 * Password sign-in on a tenant host. Unknown email, wrong password and "not a member of this
 * tenant" all give the same 401 after the same work, so accounts cannot be enumerated.
 */
export async function login({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { email: string; password: string };
}): Promise<TokenPair | MfaChallenge> {
  const { env, tenant } = ctx;
  // The attempt is taken before the password is checked: parallel guesses cannot all pass.
  const taken = await takeAttempt(
    env,
    signInBudgets(tenant.id, input.email, ctx.ip),
    "Too many failed sign-in attempts. Try again later.",
  );
  const user = await controlDb(env).select().from(users).where(eq(users.email, input.email)).get();
  const passwordOk = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await burnPasswordCheck(input.password);
  const member =
    user && passwordOk
      ? await tenantDb(env, tenant)
          .orm.select({ id: members.id, role: members.role })
          .from(members)
          .where(eq(members.userId, user.id))
          .get()
      : undefined;
  if (!user || !member) throw new UnauthorizedError(INVALID);
  // Checked only after the password held: the refusal tells nothing to whoever lacks it.
  if (await passwordRefusedBySso(env, tenant, input.email, member.role)) {
    await auditEntry(
      {
        db: tenantDb(env, tenant),
        requestId: ctx.requestId,
        ip: ctx.ip,
        actor: { type: "user", id: user.id },
      },
      {
        action: "sso.refuse",
        target: { type: "user", id: user.id },
        after: { reason: "password_sign_in_sso_enforced" },
      },
    );
    throw new ForbiddenError(SSO_REQUIRED, "sso_required");
  }
  // A success clears the account's failures and gives the client its attempt back.
  await refundAttempt(env, taken, { clear: [0], refund: [1] });
  // Hashes made under weaker parameters are upgraded the first time the password is seen again.
  if (needsRehash(user.passwordHash)) {
    await controlDb(env)
      .update(users)
      .set({ passwordHash: await hashPassword(input.password), updatedAt: Date.now() })
      .where(eq(users.id, user.id));
  }
  // A member with MFA gets a short-lived challenge instead of tokens (ADR 023).
  if (await hasMfa(tenantDb(env, tenant), user.id)) {
    return {
      mfa_required: true,
      challenge: await signPurposeToken(
        config(env),
        MFA_PURPOSE,
        { sub: user.id, tid: tenant.id },
        MFA_CHALLENGE_TTL_SECONDS,
      ),
      expires_in: MFA_CHALLENGE_TTL_SECONDS,
    };
  }
  return createSession({ ctx, input: { userId: user.id } });
}

/**
 * The second step of a sign-in with MFA: the challenge from the password step and a TOTP or
 * recovery code (each accepted once, throttled per user). The session starts MFA-verified.
 */
export async function completeMfaLogin({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { challenge: string; code: string };
}): Promise<TokenPair> {
  const claims = await verifyPurposeToken(
    config(ctx.env),
    MFA_PURPOSE,
    input.challenge,
    ChallengeClaimsSchema,
  );
  if (!claims || claims.tid !== ctx.tenant.id) {
    throw new UnauthorizedError("The sign-in has expired; enter your email and password again.");
  }
  const method = await consumeSecondFactor(ctx, claims.sub, input.code);
  if (!method) throw new UnauthorizedError("The code is not valid or was already used.");
  return createSession({ ctx, input: { userId: claims.sub, mfa: method } });
}
