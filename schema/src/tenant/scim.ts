import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
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
