import { isSubset, type Permission, permissionsOf, ROLES } from "@tenantry/core/permissions";

/**
 * What the API's rules (services/members.ts, invitations.ts) allow, said before the click: each
 * `whyNot…` is null when the caller may, else the reason the page shows. The API still refuses.
 */
export { ROLES };

function held(permissions: readonly string[]): ReadonlySet<Permission> {
  return new Set(permissions as Permission[]);
}

/** Why the caller cannot give anyone `role`: it holds a permission the caller lacks. */
export function whyNotGrant(permissions: readonly string[], role: string): string | null {
  return isSubset(permissionsOf(role), held(permissions)) ? null : "higher than your role";
}

/** Why the caller cannot change or remove a member with `role` (`owners`: how many there are). */
export function whyNotManage(
  permissions: readonly string[],
  role: string,
  owners: number,
): string | null {
  if (!permissions.includes("members:manage")) return "Your role cannot manage members.";
  if (whyNotGrant(permissions, role))
    return `Your role cannot change members with the ${role} role: it holds permissions yours lacks.`;
  if (role === "owner" && owners <= 1)
    return "The last owner cannot be demoted or removed; make someone else owner first.";
  return null;
}

/** Why the caller cannot invite anyone now (role, unverified email, seats), or null. */
export function whyNotInvite(
  me: { permissions: readonly string[]; user: { email_verified: boolean } | null },
  seats: { used: number; limit: number | null },
): string | null {
  if (!me.permissions.includes("invitations:manage")) return "Your role cannot invite members.";
  if (me.user && !me.user.email_verified)
    return "Verify your email address before inviting members (the link is in your sign-up mail).";
  if (seats.limit !== null && seats.used >= seats.limit)
    return `All ${seats.limit} seats of your plan are taken: remove a member or move to a larger plan.`;
  return null;
}
