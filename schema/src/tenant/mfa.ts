import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId, timestamps } from "../columns";

/**
 * A member's TOTP factor in this tenant (ADR 023). Pending until `confirmed_at` (a code proved
 * the authenticator holds the secret). `last_step` is the last accepted time step: a code is
 * accepted once, by an update guarded on it.
 */
export const mfaFactors = sqliteTable(
  "mfa_factors",
  {
    userId: text("user_id").primaryKey(),
    tenantId: tenantId(),
    /** Base32 TOTP secret; the authenticator needs it in clear, so it cannot be hashed. */
    secret: text("secret").notNull(),
    confirmedAt: integer("confirmed_at"),
    lastStep: integer("last_step"),
    ...timestamps,
  },
  (t) => [index("mfa_factors_tenant_idx").on(t.tenantId)],
);

/** Single-use recovery codes, shown once at enrolment; SHA-256 only. */
export const mfaRecoveryCodes = sqliteTable(
  "mfa_recovery_codes",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    userId: text("user_id").notNull(),
    codeHash: text("code_hash").notNull().unique(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("mfa_recovery_codes_tenant_idx").on(t.tenantId),
    index("mfa_recovery_codes_user_idx").on(t.userId),
  ],
);

/** The tenant's security policy: one row per tenant database, absent until the first change. */
export const securitySettings = sqliteTable("security_settings", {
  tenantId: tenantId().primaryKey(),
  /** Every member must enrol MFA (SSO members will satisfy it through their IdP, issue 12 §1). */
  requireMfa: integer("require_mfa", { mode: "boolean" }).notNull().default(false),
  updatedAt: integer("updated_at").notNull(),
});
