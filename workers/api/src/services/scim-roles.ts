import { scimGroupMembers, scimGroups } from "@tenantry/schema/tenant";
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { ROLES, type Role } from "../rbac/permissions";

/** The role a provisioned member has without a role group. */
export const DEFAULT_ROLE: Role = "member";

/** Roles an IdP may grant (a SCIM group, an SSO role mapping); owners are made in the app. */
export const GRANTABLE = ROLES.filter((r) => r !== "owner");

export function roleNamed(displayName: string): Role | undefined {
  return GRANTABLE.find((r) => r === displayName.trim().toLowerCase());
}

/**
 * The role a SCIM user's groups give: the highest of their role-named groups (admin > billing >
 * member > viewer, the catalog's order), or the default role without one.
 */
export async function roleFromGroups(ctx: ServiceContext, scimUserId: string): Promise<Role> {
  const names = await ctx.db.orm
    .select({ name: scimGroups.displayName })
    .from(scimGroupMembers)
    .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
    .where(eq(scimGroupMembers.scimUserId, scimUserId));
  const held = names.map((n) => roleNamed(n.name));
  return GRANTABLE.find((r) => held.includes(r)) ?? DEFAULT_ROLE;
}
