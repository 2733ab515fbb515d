import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamps } from "../columns";

/** Global identities. `email` is stored lower-cased, so uniqueness is case-insensitive. */
export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  /** `pbkdf2-sha256$<iterations>$<salt>$<hash>`: parameters travel with the hash. */
  passwordHash: text("password_hash").notNull(),
  emailVerifiedAt: integer("email_verified_at"),
  ...timestamps,
});

/** The user → tenant index used at sign-in and for fan-out (session revocation). */
export const userTenants = sqliteTable(
  "user_tenants",
  {
    userId: text("user_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.tenantId] }),
    index("user_tenants_tenant_idx").on(t.tenantId),
  ],
);
