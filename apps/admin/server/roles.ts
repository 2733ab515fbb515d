import { OPERATOR_ROLES, type OperatorRole } from "@tenantry/schema/operator-roles";

export { OPERATOR_ROLES, type OperatorRole };

/**
 * What each operator role may do. Least privilege: `read_only` sees, `support` also opens
 * read-only support access, `billing` also changes plans, overrides and replays billing events,
 * `platform_admin` does everything, including operators, fleet migrations and write access.
 */
export const OPERATOR_PERMISSIONS = {
  /** Their own API tokens, at most their own role. */
  "tokens:own": ["read_only", "support", "billing", "platform_admin"],
  "tenants:read": ["read_only", "support", "billing", "platform_admin"],
  "billing:read": ["read_only", "support", "billing", "platform_admin"],
  "audit:read": ["read_only", "support", "billing", "platform_admin"],
  "fleet:read": ["read_only", "support", "billing", "platform_admin"],
  "support:start": ["support", "platform_admin"],
  "tenants:suspend": ["support", "platform_admin"],
  "overrides:write": ["billing", "platform_admin"],
  "billing:write": ["billing", "platform_admin"],
  "fleet:migrate": ["platform_admin"],
  "operators:manage": ["platform_admin"],
  "support:write": ["platform_admin"],
} as const satisfies Record<string, readonly OperatorRole[]>;

export type OperatorPermission = keyof typeof OPERATOR_PERMISSIONS;

export function can(role: OperatorRole, permission: OperatorPermission): boolean {
  return (OPERATOR_PERMISSIONS[permission] as readonly OperatorRole[]).includes(role);
}

/** The README's roles × permissions table (`npm run docs:permissions` writes it). */
export function operatorPermissionTable(): string {
  const roles = [...OPERATOR_ROLES].reverse();
  const head = `| permission | ${roles.join(" | ")} |\n| --- |${roles.map(() => " :-: |").join("")}`;
  const rows = (Object.keys(OPERATOR_PERMISSIONS) as OperatorPermission[]).map(
    (p) => `| \`${p}\` | ${roles.map((r) => (can(r, p) ? "✓" : "")).join(" | ")} |`,
  );
  return [head, ...rows].join("\n");
}
