import { isSubset, type Permission, permissionsOf } from "@tenantry/core/permissions";

/**
 * What the API's rules (services/members.ts, invitations.ts) allow, said before the click: each
 * `whyNot…` is null when the caller may, else the reason the page shows. The API still refuses.
 */
interface Caller {
  permissions: readonly string[];
  user: { email_verified: boolean } | null;
  /** Set while an operator acts through support access. */
  support: { mode: "read" | "write" } | null;
}

const READ_ONLY_SUPPORT = "Read-only support access cannot change anything.";

/** Why the caller cannot give anyone `role`: above their own, or owner during support access. */
export function whyNotGrant(me: Caller, role: string): string | null {
  if (!isSubset(permissionsOf(role), new Set(me.permissions as Permission[])))
    return "higher than your role";
  if (me.support && role === "owner") return "not during support access";
  return null;
}

/** Why the caller cannot change or remove a member with `role` (`owners`: how many there are). */
export function whyNotManage(me: Caller, role: string, owners: number): string | null {
  if (!me.permissions.includes("members:manage")) return "Your role cannot manage members.";
  if (me.support?.mode === "read") return READ_ONLY_SUPPORT;
  if (whyNotGrant(me, role))
    return `Your role cannot change members with the ${role} role: it holds permissions yours lacks.`;
  if (role === "owner" && owners <= 1)
    return "The last owner cannot be demoted or removed; make someone else owner first.";
  return null;
}

/** Why the caller cannot invite anyone now (role, unverified email, seats), or null. */
export function whyNotInvite(
  me: Caller,
  seats: { used: number; limit: number | null },
): string | null {
  if (!me.permissions.includes("invitations:manage")) return "Your role cannot invite members.";
  if (me.support?.mode === "read") return READ_ONLY_SUPPORT;
  if (me.user && !me.user.email_verified)
    return "Verify your email address before inviting members (the link is in your sign-up mail).";
  if (seats.limit !== null && seats.used >= seats.limit)
    return `All ${seats.limit} seats of your plan are taken: remove a member or move to a larger plan.`;
  return null;
}
