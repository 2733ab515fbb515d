import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * A sign-in of one user into this tenant. The refresh token rotates; `refresh_hash` is the hash
 * of the only token that may be used next, so presenting an older one is detected as reuse.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    userId: text("user_id").notNull(),
    refreshHash: text("refresh_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    refreshedAt: integer("refreshed_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason"),
    ip: text("ip"),
    /** When this session last proved a second factor (sign-in or step-up); null: never. */
    mfaVerifiedAt: integer("mfa_verified_at"),
    /** How the session was made: `sso` sessions proved their factors at the IdP (ADR 023). */
    signedInWith: text("signed_in_with", { enum: ["password", "sso"] })
      .notNull()
      .default("password"),
  },
  (t) => [index("sessions_tenant_idx").on(t.tenantId), index("sessions_user_idx").on(t.userId)],
);
