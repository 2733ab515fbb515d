import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/** API keys. Only a SHA-256 of the key is stored; `start` is a short prefix for display. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    name: text("name").notNull(),
    start: text("start").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    /** JSON array of `resource:action` strings. */
    permissions: text("permissions").notNull(),
    createdBy: text("created_by").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("api_keys_tenant_idx").on(t.tenantId)],
);
