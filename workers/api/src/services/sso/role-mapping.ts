import { auditEntryWhere, tenantDb } from "@tenantry/core";
import { members } from "@tenantry/schema/tenant";
import { and, eq, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantRequestContext } from "../../context";
import type { Role } from "../../rbac/permissions";
import { type Member, revokeInvitationsOf } from "../members";
import { GRANTABLE } from "../scim-roles";
import { forgetApiKeys, forgetSessions } from "../session-cache";
import type { SsoConnection } from "./model";

/**
 * A connection's role mapping (issue 12): the first rule whose value the claim holds (a string,
 * or an array of strings such as `groups`) gives the role. Never `owner`: an IdP cannot mint
 * owners.
 */
export const RoleMappingSchema = z.strictObject({
  claim: z.string().trim().min(1).max(100),
  rules: z
    .array(
      z.strictObject({
        value: z.string().trim().min(1).max(200),
        role: z.enum(GRANTABLE as [Role, ...Role[]]),
      }),
    )
    .min(1)
    .max(50),
});
export type RoleMapping = z.infer<typeof RoleMappingSchema>;

/** The stored JSON text as a mapping; anything unreadable counts as no mapping. */
export function parseRoleMapping(text: string | null): RoleMapping | null {
  if (!text) return null;
  try {
    const parsed = RoleMappingSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The role the first matching rule gives, or null when no rule matches. */
export function roleFromClaims(mapping: RoleMapping, claims: Record<string, unknown>): Role | null {
  const held = claims[mapping.claim];
  const values = Array.isArray(held) ? held.filter((v) => typeof v === "string") : [held];
  return mapping.rules.find((r) => values.includes(r.value))?.role ?? null;
}

/** The role a connection gives a sign-in: its mapping's rule, else its default role. */
export function roleForClaims(connection: SsoConnection, claims: Record<string, unknown>): Role {
  const mapping = parseRoleMapping(connection.roleMapping);
  return (mapping && roleFromClaims(mapping, claims)) ?? (connection.defaultRole as Role);
}

/**
 * A later sign-in through a connection with a mapping: the member's role follows the IdP's
 * claims (no rule matching → the default role). Owners are left alone, and the update is guarded
 * on the role it read, so a concurrent change in the app wins over this one.
 */
export async function syncMappedRole(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  member: Member,
  claims: Record<string, unknown>,
): Promise<Member> {
  if (!parseRoleMapping(connection.roleMapping) || member.role === "owner") return member;
  const role = roleForClaims(connection, claims);
  if (role === member.role || role === "owner") return member;
  const db = tenantDb(ctx.env, ctx.tenant);
  const updated = { ...member, role, updatedAt: Date.now() };
  const changed = sql`EXISTS (SELECT 1 FROM ${members} WHERE ${members.id} = ${member.id} AND ${members.role} = ${role} AND ${members.updatedAt} = ${updated.updatedAt})`;
  const guard = and(
    eq(members.id, member.id),
    eq(members.role, member.role),
    ne(members.role, "owner"),
  );
  // The audit entry goes first, on the update's own guard: batches are serialized transactions,
  // so only the sign-in whose update applies writes it (a check after the update could not tell
  // two parallel sign-ins apart when their timestamps are equal).
  const [, applied] = await db.orm.batch([
    auditEntryWhere(
      { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "user", id: member.userId } },
      {
        action: "member.role_change",
        target: { type: "member", id: member.id },
        before: { role: member.role },
        after: { role, via: "sso", connection_id: connection.id },
      },
      sql`EXISTS (SELECT 1 FROM ${members} WHERE ${guard})`,
    ),
    db.orm
      .update(members)
      .set({ role, updatedAt: updated.updatedAt })
      .where(guard)
      .returning({ id: members.id }),
    revokeInvitationsOf({ db }, member, role, changed),
  ]);
  if (applied.length !== 1) return member;
  forgetSessions({ userId: member.userId, tenantId: ctx.tenant.id });
  forgetApiKeys({ tenantId: ctx.tenant.id, createdBy: member.userId });
  return updated;
}
