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
import type { TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { createSession, type TokenPair } from "./sessions";
import { passwordRefusedBySso } from "./sso/realm";
import { refundAttempt, signInBudgets, takeAttempt } from "./throttle";

const INVALID = "Invalid email or password.";
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
}): Promise<TokenPair> {
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
  return createSession({ ctx, input: { userId: user.id } });
}
