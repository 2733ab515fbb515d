/**
 * Operator roles, least privilege first; the permission matrix is apps/admin/server/roles.ts.
 * A module of its own, free of drizzle, so the admin app's pages can name roles without
 * shipping the control schema to the browser.
 */
export const OPERATOR_ROLES = ["read_only", "support", "billing", "platform_admin"] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
