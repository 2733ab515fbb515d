/**
 * The permission matrix: one place in code. The README table is generated from it
 * (`npm run docs:permissions`), and `npm run docs:check` (part of verify) keeps the two equal.
 */
export const PERMISSIONS = [
  "projects:read",
  "projects:write",
  "members:read",
  "members:manage",
  "invitations:read",
  "invitations:manage",
  "api_keys:read",
  "api_keys:manage",
  "billing:read",
  "billing:manage",
  "audit:read",
  "settings:read",
  "settings:manage",
  "usage:read",
  "usage:write",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ["owner", "admin", "billing", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const ALL = new Set<Permission>(PERMISSIONS);

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: ALL,
  admin: new Set(PERMISSIONS.filter((p) => p !== "billing:manage")),
  billing: new Set<Permission>([
    "billing:read",
    "billing:manage",
    "members:read",
    "settings:read",
    "usage:read",
  ]),
  member: new Set<Permission>([
    "projects:read",
    "projects:write",
    "members:read",
    "settings:read",
    "usage:read",
    "usage:write",
  ]),
  viewer: new Set<Permission>(["projects:read", "members:read", "settings:read", "usage:read"]),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function permissionsOf(role: string): ReadonlySet<Permission> {
  return isRole(role) ? ROLE_PERMISSIONS[role] : new Set();
}

/** "No higher than": every permission of `wanted` is held by `holder`. */
export function isSubset(wanted: Iterable<Permission>, holder: ReadonlySet<Permission>): boolean {
  for (const p of wanted) if (!holder.has(p)) return false;
  return true;
}

/** Markdown table of the matrix, for the README. */
export function permissionTable(): string {
  const head = `| permission | ${ROLES.join(" | ")} |\n| --- |${ROLES.map(() => " :-: |").join("")}`;
  const rows = PERMISSIONS.map(
    (p) =>
      `| \`${p}\` | ${ROLES.map((r) => (ROLE_PERMISSIONS[r].has(p) ? "✓" : "")).join(" | ")} |`,
  );
  return [head, ...rows].join("\n");
}
