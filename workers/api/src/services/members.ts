import { auditEntryWhere } from "@tenantry/core";
import { userTenants } from "@tenantry/schema/control";
import { apiKeys, invitations, members, sessions } from "@tenantry/schema/tenant";
import { and, eq, inArray, isNull, notInArray, or, type SQL, sql } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { controlDb } from "../db/control-db";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { isSubset, permissionsOf, ROLES, type Role } from "../rbac/permissions";
import { releaseUnit } from "./limits";
import { requireRecentMfa } from "./mfa";
import { forgetApiKeys, forgetSessions } from "./session-cache";

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

export function listMembers({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  return listPage(ctx.db, members, input, memberView);
}

async function getMember(ctx: ServiceContext, id: string): Promise<Member> {
  const m = await ctx.db.orm.select().from(members).where(eq(members.id, id)).get();
  if (!m) throw new NotFoundError("member");
  return m;
}

/**
 * One may only act on members whose role is no higher than one's own permissions; support access
 * never changes who the owners are.
 */
function assertCanManage(ctx: ServiceContext, target: Member, newRole?: Role) {
  if (ctx.actor.type === "support" && (target.role === "owner" || newRole === "owner")) {
    throw new ForbiddenError(
      "Owners cannot be added, changed or removed during support access.",
      "support_access_restricted",
    );
  }
  if (!isSubset(permissionsOf(target.role), ctx.actor.permissions)) {
    throw new ForbiddenError("You cannot change a member whose role is higher than yours.");
  }
  if (newRole && !isSubset(permissionsOf(newRole), ctx.actor.permissions)) {
    throw new ForbiddenError(`You cannot grant the ${newRole} role: it is higher than yours.`);
  }
}

const LAST_OWNER = "The last owner cannot be removed or demoted; make someone else owner first.";

/**
 * "At least one owner" as part of the write itself: the statement changes an owner only while
 * another owner remains, so two owners demoting or removing each other at once leave one.
 */
function keepsAnOwner(ctx: ServiceContext) {
  return sql`(${members.role} != 'owner' OR (SELECT count(*) FROM ${members} WHERE ${members.role} = 'owner' AND ${members.tenantId} = ${ctx.tenant.id}) > 1)`;
}

/**
 * Whether a guarded write on `members` will apply, as a condition for the writes batched before
 * it (its audit entry): a batch is one transaction and batches run one after another, so of two
 * parallel requests only the one whose write applies sees it true. A check after the write
 * (the row as it should now be) is true for both when they wrote the same values.
 */
function applies(guard: SQL | undefined) {
  return sql`EXISTS (SELECT 1 FROM ${members} WHERE ${guard})`;
}

/** Roles a member with `role` may invite (none without invitations:manage). */
function invitableRoles(role: Role | null): Role[] {
  const held = role ? permissionsOf(role) : new Set<never>();
  if (!held.has("invitations:manage")) return [];
  return ROLES.filter((r) => isSubset(permissionsOf(r), held));
}

/**
 * Revokes the pending invitations a member sent (directly or through their API keys) that their
 * new role could not send, in the same batch as the change of role; `changed` guards it.
 */
export function revokeInvitationsOf(
  ctx: Pick<ServiceContext, "db">,
  target: Member,
  newRole: Role | null,
  changed: SQL,
) {
  const allowed = invitableRoles(newRole);
  return ctx.db.orm
    .update(invitations)
    .set({ revokedAt: Date.now() })
    .where(
      and(
        or(
          eq(invitations.invitedBy, target.userId),
          inArray(
            invitations.invitedBy,
            ctx.db.orm
              .select({ id: apiKeys.id })
              .from(apiKeys)
              .where(eq(apiKeys.createdBy, target.userId)),
          ),
        ),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        allowed.length > 0 ? notInArray(invitations.role, allowed) : undefined,
        changed,
      ),
    );
}

export async function updateMemberRole({
  ctx,
  input: { id, role },
}: {
  ctx: ServiceContext;
  input: { id: string; role: Role };
}) {
  const target = await getMember(ctx, id);
  assertCanManage(ctx, target, role);
  if (target.role === role) return target;
  // Who the owners are is the tenant's most sensitive setting: a recent second factor first.
  if (target.role === "owner" || role === "owner") await requireRecentMfa(ctx);
  const updated = { ...target, role, updatedAt: Date.now() };
  const changed = sql`EXISTS (SELECT 1 FROM ${members} WHERE ${members.id} = ${id} AND ${members.role} = ${role} AND ${members.updatedAt} = ${updated.updatedAt})`;
  const guard = and(eq(members.id, id), eq(members.role, target.role), keepsAnOwner(ctx));
  // The audit entry first, on the update's own guard (see `applies`).
  const [, applied] = await ctx.db.orm.batch([
    auditEntryWhere(
      ctx,
      {
        action: "member.update",
        target: { type: "member", id },
        before: memberView(target),
        after: memberView(updated),
      },
      applies(guard),
    ),
    ctx.db.orm
      .update(members)
      .set({ role, updatedAt: updated.updatedAt })
      .where(guard)
      .returning({ id: members.id }),
    revokeInvitationsOf(ctx, target, role, changed),
  ]);
  forgetSessions({ userId: target.userId, tenantId: ctx.tenant.id });
  forgetApiKeys({ tenantId: ctx.tenant.id, createdBy: target.userId });
  if (applied.length !== 1) await explainRefusal(ctx, target);
  return updated;
}

/** Why a guarded change of a member matched nothing: gone, changed meanwhile, or the last owner. */
async function explainRefusal(ctx: ServiceContext, target: Member): Promise<never> {
  const now = await ctx.db.orm.select().from(members).where(eq(members.id, target.id)).get();
  if (!now) throw new NotFoundError("member");
  if (now.role !== target.role) {
    throw new ConflictError(
      "member_changed",
      "The member's role changed meanwhile; reload and retry.",
    );
  }
  throw new ConflictError("last_owner", LAST_OWNER);
}

/**
 * Removes the member, ends their sessions, revokes the API keys they created and the invitations
 * they sent, and drops them from the sign-in index.
 */
export async function removeMember({
  ctx,
  input: { id },
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const target = await getMember(ctx, id);
  assertCanManage(ctx, target);
  if (target.role === "owner") await requireRecentMfa(ctx);
  const now = Date.now();
  const removed = sql`NOT EXISTS (SELECT 1 FROM ${members} WHERE ${members.id} = ${id})`;
  const guard = and(eq(members.id, id), keepsAnOwner(ctx));
  const [, deleted] = await ctx.db.orm.batch([
    // The audit entry first, on the delete's own guard (see `applies`).
    auditEntryWhere(
      ctx,
      { action: "member.remove", target: { type: "member", id }, before: memberView(target) },
      applies(guard),
    ),
    ctx.db.orm.delete(members).where(guard).returning({ id: members.id }),
    ctx.db.orm
      .update(sessions)
      .set({ revokedAt: now, revokedReason: "member_removed" })
      .where(and(eq(sessions.userId, target.userId), isNull(sessions.revokedAt), removed)),
    revokeInvitationsOf(ctx, target, null, removed),
    ctx.db.orm
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.createdBy, target.userId), isNull(apiKeys.revokedAt), removed)),
  ]);
  if (deleted.length !== 1) await explainRefusal(ctx, target);
  await controlDb(ctx.env)
    .delete(userTenants)
    .where(and(eq(userTenants.userId, target.userId), eq(userTenants.tenantId, ctx.tenant.id)));
  forgetSessions({ userId: target.userId, tenantId: ctx.tenant.id });
  forgetApiKeys({ tenantId: ctx.tenant.id, createdBy: target.userId });
  await releaseUnit(ctx.env, ctx.tenant.id, "seats", `member:${id}`);
  return target;
}
