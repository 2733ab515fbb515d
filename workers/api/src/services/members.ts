import { auditEntry } from "@tenantry/core";
import { apiKeys, members, sessions } from "@tenantry/schema/tenant";
import { and, count, eq, isNull } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { isSubset, permissionsOf, type Role } from "../rbac/permissions";
import { releaseUnit } from "./limits";
import { forgetSessions } from "./session-cache";

export type Member = typeof members.$inferSelect;

export function memberView(m: Member) {
  return {
    id: m.id,
    user_id: m.userId,
    email: m.email,
    role: m.role,
    created_at: new Date(m.createdAt).toISOString(),
  };
}

export function listMembers(ctx: ServiceContext, page: PageQuery) {
  return listPage(ctx.db, members, page, memberView);
}

async function getMember(ctx: ServiceContext, id: string): Promise<Member> {
  const m = await ctx.db.orm.select().from(members).where(eq(members.id, id)).get();
  if (!m) throw new NotFoundError("member");
  return m;
}

/** One may only act on members whose role is no higher than one's own permissions. */
function assertCanManage(ctx: ServiceContext, target: Member, newRole?: Role) {
  if (!isSubset(permissionsOf(target.role), ctx.actor.permissions)) {
    throw new ForbiddenError("You cannot change a member whose role is higher than yours.");
  }
  if (newRole && !isSubset(permissionsOf(newRole), ctx.actor.permissions)) {
    throw new ForbiddenError(`You cannot grant the ${newRole} role: it is higher than yours.`);
  }
}

async function assertNotLastOwner(ctx: ServiceContext, target: Member) {
  if (target.role !== "owner") return;
  const owners = await ctx.db.orm
    .select({ n: count() })
    .from(members)
    .where(eq(members.role, "owner"))
    .get();
  if ((owners?.n ?? 0) <= 1) {
    throw new ConflictError(
      "last_owner",
      "The last owner cannot be removed or demoted; make someone else owner first.",
    );
  }
}

export async function updateMemberRole(ctx: ServiceContext, id: string, role: Role) {
  const target = await getMember(ctx, id);
  assertCanManage(ctx, target, role);
  if (target.role === role) return target;
  if (role !== "owner") await assertNotLastOwner(ctx, target);
  const updated = { ...target, role, updatedAt: Date.now() };
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(members)
      .set({ role, updatedAt: updated.updatedAt })
      .where(eq(members.id, id)),
    auditEntry(ctx, {
      action: "member.update",
      target: { type: "member", id },
      before: memberView(target),
      after: memberView(updated),
    }),
  ]);
  forgetSessions({ userId: target.userId, tenantId: ctx.tenant.id });
  return updated;
}

/**
 * Removes the member, ends their sessions, revokes the API keys they created, and drops them
 * from the sign-in index.
 */
export async function removeMember(ctx: ServiceContext, id: string) {
  const target = await getMember(ctx, id);
  assertCanManage(ctx, target);
  await assertNotLastOwner(ctx, target);
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm.delete(members).where(eq(members.id, id)),
    ctx.db.orm
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "member_removed" })
      .where(and(eq(sessions.userId, target.userId), isNull(sessions.revokedAt))),
    ctx.db.orm
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.createdBy, target.userId), isNull(apiKeys.revokedAt))),
    auditEntry(ctx, {
      action: "member.remove",
      target: { type: "member", id },
      before: memberView(target),
    }),
  ]);
  await ctx.env.CONTROL_DB.prepare("DELETE FROM user_tenants WHERE user_id = ? AND tenant_id = ?")
    .bind(target.userId, ctx.tenant.id)
    .run();
  forgetSessions({ userId: target.userId, tenantId: ctx.tenant.id });
  await releaseUnit(ctx.env, ctx.tenant.id, "seats", `member:${id}`);
  return target;
}
