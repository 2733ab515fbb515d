import { auditEntry } from "@tenantry/core";
import { securitySettings } from "@tenantry/schema/tenant";
import type { ServiceContext } from "../context";
import { ConflictError, ForbiddenError } from "../errors";
import { hasMfa, requireRecentMfa } from "./mfa";
import { forgetSessions } from "./session-cache";

export async function getMfaPolicy({ ctx }: { ctx: ServiceContext }) {
  const row = await ctx.db.orm.select().from(securitySettings).get();
  return { require_mfa: row?.requireMfa ?? false };
}

/**
 * "Require MFA for every member": owners only, with a recent second factor, and an owner turning
 * it on must have MFA already (or they would lock themselves out of everything but enrolment).
 * Members without MFA are then held to enrolment (`requireMfaEnrolment`), except on a session
 * made by SSO sign-in, which satisfies it through the IdP.
 */
export async function updateMfaPolicy({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { require_mfa: boolean };
}) {
  const { actor } = ctx;
  if (actor.type !== "user" || actor.role !== "owner") {
    throw new ForbiddenError("Only an owner can change the workspace's MFA policy.", "owner_only");
  }
  if (input.require_mfa && !(await hasMfa(ctx.db, actor.id))) {
    throw new ConflictError(
      "mfa_not_enrolled",
      "Set up two-factor authentication yourself before requiring it of every member.",
    );
  }
  await requireRecentMfa(ctx);
  const before = await getMfaPolicy({ ctx });
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm
      .insert(securitySettings)
      .values({ tenantId: ctx.tenant.id, requireMfa: input.require_mfa, updatedAt: now })
      .onConflictDoUpdate({
        target: securitySettings.tenantId,
        set: { requireMfa: input.require_mfa, updatedAt: now },
      }),
    auditEntry(ctx, {
      action: "security.update",
      target: { type: "tenant", id: ctx.tenant.id },
      before,
      after: input,
    }),
  ]);
  forgetSessions({ tenantId: ctx.tenant.id });
  return input;
}
