import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId, timestamps } from "../columns";

/**
 * Bearer tokens an identity provider uses for SCIM provisioning (issue 12 §4). Only a SHA-256 of
 * the token is stored; `start` is a short prefix for display.
 */
export const scimTokens = sqliteTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    name: text("name").notNull(),
    start: text("start").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdBy: text("created_by").notNull(),
    revokedAt: integer("revoked_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("scim_tokens_tenant_idx").on(t.tenantId)],
);

/**
 * The SCIM view of a provisioned member. It outlives the membership: a deactivated user keeps
 * its SCIM id (the IdP reactivates it by id) while `member_id` is null and the seat is free.
 * `user_name` is lower-cased (the member's email), so uniqueness is case-insensitive.
 */
export const scimUsers = sqliteTable(
  "scim_users",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    userName: text("user_name").notNull().unique(),
    externalId: text("external_id"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    displayName: text("display_name"),
    active: integer("active", { mode: "boolean" }).notNull(),
    userId: text("user_id").notNull(),
    memberId: text("member_id"),
    /**
     * A fresh random value on every change: the ETag (`W/"<version>"`) If-Match compares against,
     * and the mark by which a guarded write knows it was this request's.
     */
    version: text("version").notNull(),
    ...timestamps,
  },
  (t) => [
    index("scim_users_tenant_idx").on(t.tenantId),
    index("scim_users_external_idx").on(t.externalId),
  ],
);

/**
 * SCIM groups. A group named like a role (`admin`, `billing`, `member`, `viewer`; never `owner`)
 * sets its members' role; other groups are kept for the IdP and change nothing.
 */
export const scimGroups = sqliteTable(
  "scim_groups",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    displayName: text("display_name").notNull().unique(),
    externalId: text("external_id"),
    version: text("version").notNull(),
    ...timestamps,
  },
  (t) => [index("scim_groups_tenant_idx").on(t.tenantId)],
);

export const scimGroupMembers = sqliteTable(
  "scim_group_members",
  {
    tenantId: tenantId(),
    groupId: text("group_id").notNull(),
    scimUserId: text("scim_user_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.scimUserId] }),
    index("scim_group_members_tenant_idx").on(t.tenantId),
    index("scim_group_members_user_idx").on(t.scimUserId),
  ],
);
